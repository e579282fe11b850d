{#-
    View-through touches (option attribution.view_through, off by default): one per
    first-party impression event, i.e. an event named in var('view_through_events') (a
    Segment track "Ad Impression" sent by the site's own ad server or an impression pixel),
    whose campaign parameters (utm_source, utm_medium, utm_campaign, utm_id, utm_content)
    name the ad. Platform exports cannot feed this model: ad_delivery holds impression
    counts per ad and day, with no person or device, so they never become touches.

    Empty when var('view_through') is false. Channel from the channel rules (source and
    medium of the impression's parameters); campaign tie by utm_id, then utm_campaign as
    campaign id or name, against the spend; ad tie by utm_content as ad id or name.
    touch_type = 'view'; touchpoint_id = hash of 'view:' || event id. Only
    int_conversion_paths_view_through (read by models tagged view_through) uses them.
-#}

with

-- the impressions, with their campaign parameters from the lake copy of each (lake_copy)
events as (

    select
        identified.event_id,
        identified.person_key,
        identified.anonymous_id,
        identified.user_id,
        identified.event_at,
        identified.event_date,
        lake.utm_source,
        lake.utm_medium,
        lake.utm_campaign,
        lake.utm_id,
        lake.utm_content
    from {{ ref('int_events_identified') }} as identified
    left join {{ ref('stg_lake__events') }} as lake
        on {{ lake_copy('identified', 'lake') }}
    where coalesce(identified.event_name, '') in ({{ string_list(var('view_through_events')) }})
    {%- if not var('view_through') %}
        and 1 = 0
    {%- endif %}

),

impressions as (

    select
        event_id,
        person_key,
        anonymous_id,
        user_id,
        event_at,
        event_date,
        lower(coalesce(utm_source, '(not set)')) as source,
        lower(coalesce(utm_medium, '(not set)')) as medium,
        lower(utm_campaign) as campaign,
        utm_campaign,
        utm_id,
        utm_content,
        cast(null as {{ dbt.type_string() }}) as click_id_type
    from events

),

channels as (

    {{ classify_channels('impressions', 'event_id') }}

),

campaigns as (

    {{ spend_campaigns() }}

),

campaign_matches as (

    {{ campaign_ties('impressions', 'campaigns') }}

),

ads as (

    {{ spend_ads() }}

),

ad_matches as (

    {{ ad_ties('impressions', 'campaign_matches', 'ads') }}

),

final as (

    select
        {{ stable_hash(dbt.concat(["'view:'", 'impressions.event_id'])) }} as touchpoint_id,
        impressions.event_id,
        impressions.person_key,
        impressions.anonymous_id,
        impressions.user_id,
        impressions.event_at as touched_at,
        impressions.event_date as touch_date,
        cast('view' as {{ dbt.type_string() }}) as touch_type,
        impressions.source,
        impressions.medium,
        impressions.campaign,
        channels.channel,
        campaign_matches.platform,
        campaign_matches.campaign_id,
        ad_matches.ad_group_id,
        ad_matches.ad_id,
        campaign_matches.campaign_id is not null as is_tied_to_campaign
    from impressions
    inner join channels
        on impressions.event_id = channels.event_id
    left join campaign_matches
        on impressions.event_id = campaign_matches.event_id
    left join ad_matches
        on impressions.event_id = ad_matches.event_id

)

select * from final
