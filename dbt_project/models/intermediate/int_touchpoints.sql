{#-
    Touchpoints: one per landing with campaign signal (any UTM parameter or a click id)
    and one per session start (a touch-capable event after more than
    var('session_timeout_minutes') of the person's inactivity, or their first), per
    person after identity stitching. touchpoint_id = hash of the event id.

    Source/medium, in order: explicit UTMs win; else a known click id gives the
    platform's default source/medium (seed platform_channels); else an external referrer
    (its host, medium 'referral'); else '(direct)' / '(none)'. The channel is the first
    matching rule of the channel_rules seed.

    Tie to ads: the platform comes from the click id type (click-level joins need click
    exports the platforms do not send), else from a source naming a platform of the same
    channel; the campaign from utm_id, then utm_campaign, against campaign ids and names
    in the spend; the ad from utm_content against ad ids and names of that campaign.
    Untied touches keep their channel (is_tied_to_campaign = false).

    Impression events (var('view_through_events')) are left out: they are view touches,
    int_view_touches, used only by the models that ask for them.
-#}

with

events as (

    -- first-party impressions (var view_through_events) are never clicks or session
    -- starts, even with campaign parameters: they are view touches (int_view_touches)
    select * from {{ ref('int_events_identified') }}
    where coalesce(event_name, '') not in ({{ string_list(var('view_through_events')) }})

),

platform_channels as (

    select * from {{ ref('platform_channels') }}

),

ad_spend as (

    select
        platform,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_id,
        ad_name
    from {{ ref('int_ad_spend_daily') }}
    where campaign_id is not null

),

session_events as (

    select
        event_id,
        event_at,
        lag(event_at) over (
            partition by person_key
            order by event_at, event_id
        ) as previous_event_at
    from events
    where event_type in ({{ string_list(var('session_event_types')) }})
        or utm_source is not null
        or utm_medium is not null
        or utm_campaign is not null
        or utm_id is not null
        or click_id is not null

),

session_starts as (

    select event_id
    from session_events
    where previous_event_at is null
        or event_at > {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'previous_event_at') }}

),

candidates as (

    select
        events.*,
        (
            events.utm_source is not null
            or events.utm_medium is not null
            or events.utm_campaign is not null
            or events.utm_id is not null
            or events.click_id is not null
        ) as has_campaign_signal,
        session_starts.event_id is not null as is_session_start,
        {{ url_host('events.referrer_url') }} as referrer_host,
        {{ url_host('events.page_url') }} as page_host
    from events
    left join session_starts
        on events.event_id = session_starts.event_id

),

touch_events as (

    select
        *,
        case
            when referrer_host is not null
                and referrer_host <> ''
                and (page_host is null or referrer_host <> page_host)
                then referrer_host
        end as external_referrer_host
    from candidates
    where has_campaign_signal or is_session_start

),

-- Rules are matched against the few distinct values, never against every touch: a
-- regex join of every touch with every rule dominated the build on big event logs.
click_id_types as (

    select distinct click_id_type
    from touch_events
    where click_id is not null and click_id_type is not null

),

click_type_platforms as (

    select
        click_id_types.click_id_type,
        platform_channels.platform as click_platform,
        platform_channels.default_source,
        platform_channels.default_medium
    from click_id_types
    inner join platform_channels
        on platform_channels.click_id_type_regex is not null
        and {{ regex_match('click_id_types.click_id_type', 'platform_channels.click_id_type_regex') }}
    qualify row_number() over (
        partition by click_id_types.click_id_type
        order by platform_channels.platform
    ) = 1

),

click_platforms as (

    select
        touch_events.event_id,
        click_type_platforms.click_platform,
        click_type_platforms.default_source,
        click_type_platforms.default_medium
    from touch_events
    inner join click_type_platforms
        on touch_events.click_id_type = click_type_platforms.click_id_type
    where touch_events.click_id is not null

),

resolved as (

    select
        touch_events.*,
        click_platforms.click_platform,
        case
            when touch_events.utm_source is not null or touch_events.utm_medium is not null
                then lower(coalesce(touch_events.utm_source, '(not set)'))
            when click_platforms.click_platform is not null
                then lower(click_platforms.default_source)
            when touch_events.external_referrer_host is not null
                then touch_events.external_referrer_host
            else '(direct)'
        end as source,
        case
            when touch_events.utm_source is not null or touch_events.utm_medium is not null
                then lower(coalesce(touch_events.utm_medium, '(not set)'))
            when click_platforms.click_platform is not null
                then lower(click_platforms.default_medium)
            when touch_events.external_referrer_host is not null
                then 'referral'
            else '(none)'
        end as medium,
        case
            when touch_events.utm_source is not null or touch_events.utm_medium is not null
                then 'utm'
            when click_platforms.click_platform is not null then 'click_id'
            when touch_events.external_referrer_host is not null then 'referrer'
            else 'direct'
        end as source_basis,
        lower(touch_events.utm_campaign) as campaign
    from touch_events
    left join click_platforms
        on touch_events.event_id = click_platforms.event_id

),

resolved_keyed as (

    select
        resolved.*,
        {{ dbt.concat([
            "coalesce(resolved.source, '')", "'|'",
            "coalesce(resolved.medium, '')", "'|'",
            "coalesce(resolved.campaign, '')", "'|'",
            "coalesce(resolved.click_id_type, '')",
        ]) }} as rule_input_key
    from resolved

),

rule_inputs as (

    select distinct rule_input_key, source, medium, campaign, click_id_type
    from resolved_keyed

),

channels as (

    {{ classify_channels('rule_inputs', 'rule_input_key') }}

),

classified as (

    select
        resolved_keyed.*,
        channels.channel,
        channels.channel_rule_priority
    from resolved_keyed
    inner join channels
        on resolved_keyed.rule_input_key = channels.rule_input_key

),

source_channels as (

    select distinct source, channel
    from classified
    where click_platform is null and source is not null

),

source_platforms as (

    select
        source_channels.source,
        source_channels.channel,
        platform_channels.platform as source_platform
    from source_channels
    inner join platform_channels
        on platform_channels.source_regex is not null
        and platform_channels.channel = source_channels.channel
        and {{ regex_match('source_channels.source', 'platform_channels.source_regex') }}
    qualify row_number() over (
        partition by source_channels.source, source_channels.channel
        order by platform_channels.platform
    ) = 1

),

with_platform as (

    select
        classified.*,
        coalesce(classified.click_platform, source_platforms.source_platform) as inferred_platform
    from classified
    left join source_platforms
        on classified.click_platform is null
        and classified.source = source_platforms.source
        and classified.channel = source_platforms.channel

),

campaigns as (

    select distinct
        platform,
        campaign_id,
        lower(campaign_name) as campaign_name_lower
    from ad_spend

),

campaign_matches as (

    {{ campaign_ties('with_platform', 'campaigns', platform_column='inferred_platform') }}

),

ads as (

    select distinct
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        lower(ad_name) as ad_name_lower
    from ad_spend
    where ad_id is not null

),

ad_matches as (

    {{ ad_ties('with_platform', 'campaign_matches', 'ads') }}

),

final as (

    select
        {{ stable_hash('with_platform.event_id') }} as touchpoint_id,
        with_platform.event_id,
        with_platform.person_key,
        with_platform.anonymous_id,
        with_platform.user_id,
        with_platform.event_at as touched_at,
        with_platform.event_date as touch_date,
        case
            when with_platform.has_campaign_signal then 'campaign_landing'
            else 'session_start'
        end as touch_type,
        with_platform.is_session_start,
        with_platform.has_campaign_signal,
        with_platform.source,
        with_platform.medium,
        with_platform.campaign,
        with_platform.utm_term as term,
        with_platform.utm_content as content,
        with_platform.utm_id,
        with_platform.click_id_type,
        with_platform.click_id,
        with_platform.source_basis,
        with_platform.external_referrer_host as referrer_host,
        with_platform.page_url as landing_url,
        with_platform.channel,
        with_platform.channel_rule_priority,
        coalesce(campaign_matches.platform, with_platform.inferred_platform) as platform,
        campaign_matches.campaign_id,
        ad_matches.ad_group_id,
        ad_matches.ad_id,
        campaign_matches.campaign_id is not null as is_tied_to_campaign,
        coalesce(campaign_matches.tie_method, 'none') as tie_method
    from with_platform
    left join campaign_matches
        on with_platform.event_id = campaign_matches.event_id
    left join ad_matches
        on with_platform.event_id = ad_matches.event_id

)

select * from final
