{#-
    attr_shapley: Path-level Shapley (Fractribution) credit of each touch: its transformed
    position's credit split equally over the touches that position stands for;
    value_credit = credit.
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
        shapley_credit as credit,
        shapley_credit as value_credit
    from {{ ref('int_path_credits') }}

),

final as (

    select
        positions.conversion_id,
        positions.touchpoint_id,
        cast('shapley' as {{ dbt.type_string() }}) as model,
        cast(credits.credit as {{ type_double() }}) as credit,
        cast(credits.value_credit as {{ type_double() }}) as value_credit
    from positions
    inner join credits
        on positions.path = credits.path
        and positions.path_position = credits.path_position

)

select * from final
