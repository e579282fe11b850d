{#-
    Journeys for the data-driven models (Markov, Shapley): one row per journey x touch.
    - Converting journeys are the conversion paths (int_conversion_paths): journey_id =
      the conversion id, is_conversion = true, conversion_value set; an empty path is one
      'Direct' row with a null touchpoint id, as in the paths.
    - Non-converting journeys: per person, the touchpoints after their last conversion
      (of any type) that fall in the window, i.e. within var('lookback_days') days before
      the end of the data (the latest touch or conversion); they end in "(null)":
      is_conversion = false, conversion id and value null. One per person, its touches
      in the order of touched_at then touchpoint_id: int_path_outcomes builds their
      paths by person in that order, without reading journey_id or touch_position.

    A view, not a table: the converting journeys are the conversion paths, and the
    others are read once (int_path_outcomes). Stored, the 2.5M rows of 10M events took
    2 s per build to write.
-#}
{{ config(materialized='view') }}

with

paths as (

    select * from {{ ref('int_conversion_paths') }}

),

touchpoints as (

    select
        touchpoint_id,
        person_key,
        touched_at,
        channel
    from {{ ref('int_touchpoints') }}

),

conversions as (

    select
        person_key,
        converted_at
    from {{ ref('int_conversions') }}

),

data_end as (

    select max(at_time) as data_end_at
    from (
        select touched_at as at_time from touchpoints
        union all
        select converted_at as at_time from conversions
    ) as times

),

last_conversions as (

    select
        person_key,
        max(converted_at) as last_converted_at
    from conversions
    group by person_key

),

non_converting_touches as (

    select
        touchpoints.touchpoint_id,
        touchpoints.person_key,
        touchpoints.touched_at,
        touchpoints.channel
    from touchpoints
    cross join data_end
    left join last_conversions
        on touchpoints.person_key = last_conversions.person_key
    where (
            last_conversions.last_converted_at is null
            or touchpoints.touched_at > last_conversions.last_converted_at
        )
        and touchpoints.touched_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'data_end.data_end_at') }}

),

non_converting as (

    select
        {{ stable_hash(dbt.concat(["'null:'", 'person_key'])) }} as journey_id,
        person_key,
        cast(null as {{ dbt.type_string() }}) as conversion_type,
        cast(
            row_number() over (partition by person_key order by touched_at, touchpoint_id)
            as {{ dbt.type_int() }}
        ) as touch_position,
        cast(count(*) over (partition by person_key) as {{ dbt.type_int() }}) as path_length,
        touchpoint_id,
        channel,
        touched_at,
        false as is_conversion,
        cast(null as {{ dbt.type_string() }}) as conversion_id,
        cast(null as {{ type_double() }}) as conversion_value,
        cast(null as {{ dbt.type_timestamp() }}) as converted_at
    from non_converting_touches

),

converting as (

    select
        conversion_id as journey_id,
        person_key,
        conversion_type,
        touch_position,
        path_length,
        touchpoint_id,
        channel,
        touched_at,
        true as is_conversion,
        conversion_id,
        conversion_value,
        converted_at
    from paths

),

final as (

    select * from converting
    union all
    select * from non_converting

)

select * from final
