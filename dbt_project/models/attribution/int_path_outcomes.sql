{#-
    One row per distinct raw channel path of the journeys: how many journeys with it
    converted (conversions, with their value in the reporting currency) and how many did
    not (nulls). The only input of the data-driven math (pipelines.attribution.outcomes),
    small enough to leave the engine whatever the engine is.
-#}

with

journeys as (

    select distinct
        journey_id,
        path,
        path_length,
        is_converting,
        conversion_value
    from {{ ref('int_path_positions') }}

),

final as (

    select
        path,
        path_length,
        cast(sum(case when is_converting then 1 else 0 end) as {{ dbt.type_bigint() }}) as conversions,
        cast(sum(case when is_converting then conversion_value else 0 end) as {{ type_double() }}) as conversion_value,
        cast(sum(case when is_converting then 0 else 1 end) as {{ dbt.type_bigint() }}) as nulls
    from journeys
    group by
        path,
        path_length

)

select * from final
