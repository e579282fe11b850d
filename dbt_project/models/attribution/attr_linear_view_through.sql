{{ config(tags=['path_local', 'view_through']) }}
{#-
    linear_view_through: 1/n for each of the n touches of the path, click and view-through
    touches alike. Tag view_through: it reads int_conversion_paths_view_through, where
    the option attribution.view_through adds first-party impressions (touch_type 'view');
    with the option off it equals linear. Not enabled by default: list
    linear_view_through under attribution.models.
-#}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        count(*) over (partition by conversion_id) as touch_count
    from {{ ref('int_conversion_paths_view_through') }}

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
        cast('linear_view_through' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
