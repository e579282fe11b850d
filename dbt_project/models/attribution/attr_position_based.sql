{{ config(materialized='view', tags=['path_local']) }}
{#-
    position_based (U-shaped): n = 1: 1; n = 2: 1/2 each; n >= 3: the first touch
    var('position_based_first_weight') (0.4), the last var('position_based_last_weight')
    (0.4), each middle touch the rest divided by n - 2.
-#}
{%- set first_weight = var('position_based_first_weight') | float -%}
{%- set last_weight = var('position_based_last_weight') | float -%}

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
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_position = 1 then {{ first_weight }}
            when touch_position = touch_count then {{ last_weight }}
            else (1.0 - {{ first_weight }} - {{ last_weight }}) / (touch_count - 2)
        end as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('position_based' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
