{#-
    attr_markov: Markov-chain credit of each touch: the removal effect of its channel over the sum of
    the removal effects of its journey's touches (last touch when that sum is 0);
    value_credit the same with the value removal effects.
    The math runs once per distinct path (int_path_credits, pipelines.attribution); here
    every touch of a converting journey (int_path_positions) takes the credit of its path
    position.
-#}

with

positions as (

    select
        conversion_id,
        touchpoint_id,
        path,
        path_position
    from {{ ref('int_path_positions') }}

),

credits as (

    select
        path,
        path_position,
        markov_credit as credit,
        markov_value_credit as value_credit
    from {{ ref('int_path_credits') }}

),

final as (

    select
        positions.conversion_id,
        positions.touchpoint_id,
        cast('markov' as {{ dbt.type_string() }}) as model,
        cast(credits.credit as {{ type_double() }}) as credit,
        cast(credits.value_credit as {{ type_double() }}) as value_credit
    from positions
    inner join credits
        on positions.path = credits.path
        and positions.path_position = credits.path_position

)

select * from final
