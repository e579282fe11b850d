{{ config(tags=['path_local']) }}
{#- linear: 1/n for each of the n touches of the path. -#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        count(*) over (partition by conversion_id) as touch_count
    from {{ ref('int_conversion_paths') }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        1.0 / touch_count as credit
    from paths

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('linear' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
