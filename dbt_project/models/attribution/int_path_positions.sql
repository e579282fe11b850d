{#-
    Every touch of every journey (int_journeys) with its journey's raw channel path: the
    channels in touch order joined by ' > ' (pipelines.attribution.outcomes.PATH_SEPARATOR)
    and its position in it (path_position, from 1). The data-driven models aggregate
    these to int_path_outcomes and join their credits back by (path, path_position).
-#}

with

journeys as (

    select
        journey_id,
        touch_position,
        touchpoint_id,
        trim(coalesce(channel, 'Unassigned')) as channel,
        is_conversion,
        conversion_id,
        conversion_value
    from {{ ref('int_journeys') }}

),

positioned as (

    select
        *,
        row_number() over (
            partition by journey_id
            order by touch_position, touchpoint_id
        ) as path_position
    from journeys

),

paths as (

    select
        journey_id,
        {{ ordered_string_agg('channel', "' > '", 'path_position') }} as path,
        count(*) as path_length,
        max(case when is_conversion then 1 else 0 end) = 1 as is_converting,
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
        paths.is_converting,
        cast(coalesce(paths.journey_value, 0) as {{ type_double() }}) as conversion_value
    from positioned
    inner join paths
        on positioned.journey_id = paths.journey_id

)

select * from final
