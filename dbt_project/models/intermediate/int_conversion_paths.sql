{#-
    Conversion paths: one row per conversion x touchpoint of its path. A touchpoint of
    the same person is in the path when touched_at <= converted_at and
    converted_at - touched_at <= var('lookback_days') days, and (unless
    var('reuse_touches')) it happened after the person's previous conversion of the same
    type. Order: touched_at, then touchpoint_id (ties broken the same way on every run).
    A conversion with an empty path gets one row with a null touchpoint id, channel
    'Direct', touch_position 1 and path_length 0.
-#}

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

    select
        touchpoint_id,
        person_key,
        touched_at,
        touch_date,
        channel,
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        is_tied_to_campaign
    from {{ ref('int_touchpoints') }}

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
