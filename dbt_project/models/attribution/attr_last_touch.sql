{{ config(materialized='view', tags=['path_local']) }}
{#- last_touch: credit 1 for the last touch of the path (an empty path's one row), 0 for the others. -#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        touch_position,
        count(*) over (partition by conversion_id) as touch_count
    from {{ ref('int_conversion_paths') }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        case when touch_position = touch_count then 1.0 else 0.0 end as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('last_touch' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
