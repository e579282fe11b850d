{{ config(materialized='view', tags=['path_local']) }}
{#-
    time_decay: w_i = 2 ^ (-(converted_at - touched_at_i) / half_life), credit_i =
    w_i / sum(w). The difference is elapsed time (UTC instants, in seconds), so a
    daylight-saving change in the reporting zone changes nothing; half life
    var('time_decay_half_life_days') days. An empty path's row gets weight 1.
-#}
{%- set half_life_seconds = (var('time_decay_half_life_days') | float) * 86400 -%}

with

paths as (

    select
        conversion_id,
        touchpoint_id,
        converted_at,
        coalesce(touched_at, converted_at) as touched_at
    from {{ ref('int_conversion_paths') }}

),

weighted as (

    select
        conversion_id,
        touchpoint_id,
        power(
            2.0,
            -1.0 * {{ seconds_between('touched_at', 'converted_at') }} / {{ half_life_seconds }}
        ) as weight
    from paths

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        weight / sum(weight) over (partition by conversion_id) as credit
    from weighted

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('time_decay' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
