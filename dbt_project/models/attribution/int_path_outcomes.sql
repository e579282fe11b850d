{#-
    One row per distinct raw channel path of the journeys (macros/journey_paths.sql): how
    many journeys with it converted (conversions, with their value in the reporting
    currency; int_path_positions) and how many did not (nulls; int_journeys). The only
    input of the data-driven math (pipelines.attribution.outcomes), small enough to leave
    the engine whatever the engine is.
-#}

with

converting as (

    select distinct
        journey_id,
        path,
        path_length,
        conversion_value
    from {{ ref('int_path_positions') }}

),

non_converting_touches as (

    select
        journey_id,
        touch_position,
        touchpoint_id,
        {{ path_step('channel') }} as channel
    from {{ ref('int_journeys') }}
    where not is_conversion

),

non_converting as (

    select
        journey_id,
        {{ channel_path('channel', path_order()) }} as path,
        count(*) as path_length
    from non_converting_touches
    group by journey_id

),

journeys as (

    select
        path,
        path_length,
        1 as conversions,
        conversion_value,
        0 as nulls
    from converting

    union all

    select
        path,
        path_length,
        0 as conversions,
        0 as conversion_value,
        1 as nulls
    from non_converting

),

final as (

    select
        path,
        cast(path_length as {{ dbt.type_bigint() }}) as path_length,
        cast(sum(conversions) as {{ dbt.type_bigint() }}) as conversions,
        cast(sum(conversion_value) as {{ type_double() }}) as conversion_value,
        cast(sum(nulls) as {{ dbt.type_bigint() }}) as nulls
    from journeys
    group by
        path,
        path_length

)

select * from final
