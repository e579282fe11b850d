{#-
    The decisions of int_touchpoints, once per touch signature: the distinct combination
    of the eight values of a touch that its rules and ties read (its UTM source, medium,
    campaign, id and content, click id type, whether it has a click id, and external
    referrer host). A few thousand signatures stand for millions of touches; each touch
    joins its signature's row in int_touchpoints.

    Source/medium, in order: explicit UTMs win; else a known click id gives the
    platform's default source/medium (seed platform_channels); else an external referrer
    (its host, medium 'referral'); else '(direct)' / '(none)'. The channel is the first
    matching rule of the channel_rules seed.

    Tie to ads: the platform comes from the click id type (click-level joins need click
    exports the platforms do not send), else from a source naming a platform of the same
    channel; the campaign from utm_id, then utm_campaign, against campaign ids and names
    in the spend; the ad from utm_content against ad ids and names of that campaign.
    Untied signatures keep their channel (campaign_id null).

    is_changed: the signature is new, or its decisions differ from the last build's
    (a campaign or ad that appeared in the spend ties it now). A nightly build re-joins
    the touches of changed signatures (int_touchpoints); on a full rebuild every
    signature is changed. Its own table so the engine plans the join of millions of
    touches with a few decided rows, never the other way round.
-#}
{%- set previous = previous_build_of(this.identifier) %}
{%- set decision_columns = [
    'utm_source',
    'utm_medium',
    'utm_campaign',
    'utm_id',
    'utm_content',
    'click_id_type',
    'has_click_id',
    'external_referrer_host',
    'source',
    'medium',
    'campaign',
    'source_basis',
    'channel',
    'channel_rule_priority',
    'platform',
    'campaign_id',
    'ad_group_id',
    'ad_id',
    'tie_method',
] %}

with

platform_channels as (

    select * from {{ ref('platform_channels') }}

),

signatures as (

    select
        row_number() over (
            order by utm_source, utm_medium, utm_campaign, utm_id, utm_content,
                click_id_type, has_click_id, external_referrer_host
        ) as signature_id,
        distinct_signatures.*
    from (
        select distinct
            utm_source,
            utm_medium,
            utm_campaign,
            utm_id,
            utm_content,
            click_id_type,
            click_id is not null as has_click_id,
            external_referrer_host
        from {{ ref('int_touch_events') }}
    ) as distinct_signatures

),

-- Rules are matched against the few distinct values, never against every touch: a
-- regex join of every touch with every rule dominated the build on big event logs.
click_id_types as (

    select distinct click_id_type
    from signatures
    where has_click_id and click_id_type is not null

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

resolved as (

    select
        signatures.signature_id,
        signatures.click_id_type,
        signatures.utm_id,
        signatures.utm_campaign,
        signatures.utm_content,
        click_type_platforms.click_platform,
        case
            when signatures.utm_source is not null or signatures.utm_medium is not null
                then lower(coalesce(signatures.utm_source, '(not set)'))
            when click_type_platforms.click_platform is not null
                then lower(click_type_platforms.default_source)
            when signatures.external_referrer_host is not null
                then signatures.external_referrer_host
            else '(direct)'
        end as source,
        case
            when signatures.utm_source is not null or signatures.utm_medium is not null
                then lower(coalesce(signatures.utm_medium, '(not set)'))
            when click_type_platforms.click_platform is not null
                then lower(click_type_platforms.default_medium)
            when signatures.external_referrer_host is not null
                then 'referral'
            else '(none)'
        end as medium,
        case
            when signatures.utm_source is not null or signatures.utm_medium is not null
                then 'utm'
            when click_type_platforms.click_platform is not null then 'click_id'
            when signatures.external_referrer_host is not null then 'referrer'
            else 'direct'
        end as source_basis,
        lower(signatures.utm_campaign) as campaign
    from signatures
    left join click_type_platforms
        on signatures.has_click_id
        and signatures.click_id_type = click_type_platforms.click_id_type

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

    {{ spend_campaigns() }}

),

campaign_matches as (

    {{ campaign_ties(
        'with_platform', 'campaigns', platform_column='inferred_platform', key='signature_id'
    ) }}

),

ads as (

    {{ spend_ads() }}

),

ad_matches as (

    {{ ad_ties('with_platform', 'campaign_matches', 'ads', key='signature_id') }}

),

-- Everything decided per signature, with the signature's values that find its touches.
decided as (

    select
        signatures.utm_source,
        signatures.utm_medium,
        signatures.utm_campaign,
        signatures.utm_id,
        signatures.utm_content,
        signatures.click_id_type,
        signatures.has_click_id,
        signatures.external_referrer_host,
        with_platform.source,
        with_platform.medium,
        with_platform.campaign,
        with_platform.source_basis,
        with_platform.channel,
        with_platform.channel_rule_priority,
        coalesce(campaign_matches.platform, with_platform.inferred_platform) as platform,
        campaign_matches.campaign_id,
        ad_matches.ad_group_id,
        ad_matches.ad_id,
        campaign_matches.tie_method
    from signatures
    inner join with_platform
        on signatures.signature_id = with_platform.signature_id
    left join campaign_matches
        on signatures.signature_id = campaign_matches.signature_id
    left join ad_matches
        on signatures.signature_id = ad_matches.signature_id

),

-- The same values and decisions as the last build: unchanged; anything else: changed.
final as (

    {%- if previous %}

    select
        unchanged.*,
        false as is_changed
    from (
        select {{ decision_columns | join(', ') }} from decided
        intersect
        select {{ decision_columns | join(', ') }} from {{ previous }}
    ) as unchanged

    union all

    select
        changed.*,
        true as is_changed
    from (
        select {{ decision_columns | join(', ') }} from decided
        except
        select {{ decision_columns | join(', ') }} from {{ previous }}
    ) as changed

    {%- else %}

    select
        decided.*,
        true as is_changed
    from decided

    {%- endif %}

)

select * from final
