{{ config(materialized='view', tags=['path_local']) }}
{#-
    last_non_direct: credit 1 for the last touch whose channel is not 'Direct'; when every
    touch is 'Direct' (or the path is empty), the last touch.
-#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        touch_position,
        count(*) over (partition by conversion_id) as touch_count,
        max(case when channel <> 'Direct' then touch_position end) over (
            partition by conversion_id
        ) as last_non_direct_position
    from {{ ref('int_conversion_paths') }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        case
            when touch_position = coalesce(last_non_direct_position, touch_count) then 1.0
            else 0.0
        end as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('last_non_direct' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
