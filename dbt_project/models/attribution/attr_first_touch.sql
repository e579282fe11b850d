{{ config(materialized='view', tags=['path_local']) }}
{#- first_touch: credit 1 for the first touch of the path, 0 for the others. -#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        touch_position
    from {{ ref('int_conversion_paths') }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        case when touch_position = 1 then 1.0 else 0.0 end as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('first_touch' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
