{#
    The conversion paths of int_conversion_paths (click touches) and
    int_conversion_paths_view_through (click and view touches): one implementation.
    `touchpoint_relations` is a list of relations with the int_touchpoints columns used
    below (int_touchpoints, int_view_touches); their union is each person's touchpoints.

    One row per conversion x touchpoint of its path. A touchpoint of the same person is in
    the path when touched_at <= converted_at and converted_at - touched_at <=
    var('lookback_days') days, and (unless var('reuse_touches')) it happened after the
    person's previous conversion of the same type. Order: touched_at, then touchpoint_id
    (ties broken the same way on every run). A conversion with an empty path gets one row
    with a null touchpoint id, channel 'Direct', touch_type 'none', touch_position 1 and
    path_length 0.
#}
{% macro conversion_paths(touchpoint_relations) -%}

with

conversions as (

    select
        conversion_id,
        conversion_type,
        person_key,
        converted_at,
        conversion_date,
        conversion_value
    from {{ ref('int_conversions') }}

),

touchpoints as (

    {%- for relation in touchpoint_relations %}

    select
        touchpoint_id,
        person_key,
        touched_at,
        touch_date,
        touch_type,
        channel,
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        is_tied_to_campaign
    from {{ relation }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

conversions_with_previous as (

    select
        *,
        lag(converted_at) over (
            partition by person_key, conversion_type
            order by converted_at, conversion_id
        ) as previous_converted_at
    from conversions

),

touches_in_window as (

    select
        conversions_with_previous.conversion_id,
        touchpoints.touchpoint_id,
        touchpoints.touched_at,
        touchpoints.touch_date,
        touchpoints.touch_type,
        touchpoints.channel,
        touchpoints.platform,
        touchpoints.campaign_id,
        touchpoints.ad_group_id,
        touchpoints.ad_id,
        touchpoints.is_tied_to_campaign
    from conversions_with_previous
    inner join touchpoints
        on conversions_with_previous.person_key = touchpoints.person_key
        and touchpoints.touched_at <= conversions_with_previous.converted_at
        and touchpoints.touched_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'conversions_with_previous.converted_at') }}
    {%- if not var('reuse_touches') %}
        and (
            conversions_with_previous.previous_converted_at is null
            or touchpoints.touched_at > conversions_with_previous.previous_converted_at
        )
    {%- endif %}

),

positioned as (

    select
        *,
        row_number() over (
            partition by conversion_id
            order by touched_at, touchpoint_id
        ) as touch_position,
        count(*) over (partition by conversion_id) as path_length
    from touches_in_window

),

paths as (

    select
        conversions.conversion_id,
        conversions.conversion_type,
        conversions.person_key,
        conversions.converted_at,
        conversions.conversion_date,
        conversions.conversion_value,
        positioned.touchpoint_id,
        positioned.touched_at,
        positioned.touch_date,
        positioned.touch_type,
        coalesce(positioned.channel, 'Direct') as channel,
        positioned.platform,
        positioned.campaign_id,
        positioned.ad_group_id,
        positioned.ad_id,
        coalesce(positioned.is_tied_to_campaign, false) as is_tied_to_campaign,
        coalesce(positioned.touch_position, 1) as touch_position,
        coalesce(positioned.path_length, 0) as path_length,
        positioned.touchpoint_id is null as is_empty_path
    from conversions
    left join positioned
        on conversions.conversion_id = positioned.conversion_id

),

final as (

    select
        conversion_id,
        conversion_type,
        person_key,
        converted_at,
        conversion_date,
        cast(conversion_value as {{ type_double() }}) as conversion_value,
        touchpoint_id,
        touched_at,
        coalesce(touch_date, conversion_date) as touch_date,
        coalesce(touch_type, 'none') as touch_type,
        channel,
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        is_tied_to_campaign,
        cast(touch_position as {{ dbt.type_int() }}) as touch_position,
        cast(path_length as {{ dbt.type_int() }}) as path_length,
        is_empty_path
    from paths

)

select * from final

{%- endmacro %}
