{#-
    Every touch of every converting journey (int_journeys) with its journey's raw channel
    path (macros/journey_paths.sql) and its position in it (path_position, from 1). The
    data-driven models aggregate these (and the non-converting journeys) to
    int_path_outcomes and join their credits back by (path, path_position).

    Converting journeys only: the non-converting ones (two thirds of the touches at 10M
    events) are needed as counts per path, which int_path_outcomes takes from the
    journeys directly; storing each of their touches with its path cost 1.4 s per build.
-#}

with

journeys as (

    select
        journey_id,
        touch_position,
        touchpoint_id,
        {{ path_step('channel') }} as channel,
        conversion_id,
        conversion_value
    from {{ ref('int_journeys') }}
    where is_conversion

),

positioned as (

    select
        *,
        row_number() over (
            partition by journey_id
            order by {{ path_order() }}
        ) as path_position
    from journeys

),

paths as (

    select
        journey_id,
        {{ channel_path('channel', 'path_position') }} as path,
        count(*) as path_length,
        max(conversion_value) as journey_value
    from positioned
    group by journey_id

),

final as (

    select
        positioned.journey_id,
        positioned.conversion_id,
        positioned.touchpoint_id,
        cast(positioned.path_position as {{ dbt.type_bigint() }}) as path_position,
        paths.path,
        cast(paths.path_length as {{ dbt.type_bigint() }}) as path_length,
        cast(coalesce(paths.journey_value, 0) as {{ type_double() }}) as conversion_value
    from positioned
    inner join paths
        on positioned.journey_id = paths.journey_id

)

select * from final
