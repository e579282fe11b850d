{#
    Tying touches to the ads they came from: one implementation for click touches
    (int_touch_decisions, per touch signature) and view touches (int_view_touches).

    spend_campaigns() and spend_ads(): the campaigns and ads of the spend a touch can
    name (the `campaigns` and `ads` of the ties below), names lower-cased.

    campaign_ties(input, campaigns, platform_column=none): one row per touch of `input`
    (columns `key`, utm_id, utm_campaign, and `platform_column` if given) that names a
    campaign of `campaigns` (platform, campaign_id, campaign_name_lower) by utm_id, else by
    utm_campaign as an id, else by utm_campaign as a name; a touch whose platform is known
    only matches that platform's campaigns. One equi-join per method (an OR join would
    compare every touch with every campaign); the best method wins.

    ad_ties(input, campaign_matches, ads): the ad (and ad group) within the tied campaign
    named by utm_content, as an id or else as a name.

    `key` names the column that identifies a row of `input` (and of the matches): the
    event id of a touch, or the id of a touch signature (int_touch_decisions).
#}

{% macro spend_campaigns() -%}
    select distinct
        platform,
        campaign_id,
        lower(campaign_name) as campaign_name_lower
    from {{ ref('int_ad_spend_daily') }}
    where campaign_id is not null
{%- endmacro %}

{% macro spend_ads() -%}
    select distinct
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        lower(ad_name) as ad_name_lower
    from {{ ref('int_ad_spend_daily') }}
    where campaign_id is not null
        and ad_id is not null
{%- endmacro %}
{% macro campaign_ties(input, campaigns, platform_column=none, key='event_id') -%}
    {%- set methods = [
        (1, 'utm_id', 'touches.utm_id = campaigns.campaign_id'),
        (2, 'utm_campaign_id', 'touches.utm_campaign = campaigns.campaign_id'),
        (3, 'utm_campaign_name', 'lower(touches.utm_campaign) = campaigns.campaign_name_lower'),
    ] -%}
    select
        {{ key }},
        platform,
        campaign_id,
        tie_method
    from (
        {%- for rank, method, condition in methods %}
        select
            touches.{{ key }},
            campaigns.platform,
            campaigns.campaign_id,
            {{ rank }} as tie_rank,
            '{{ method }}' as tie_method
        from {{ input }} as touches
        inner join {{ campaigns }} as campaigns
            on {{ condition }}
        {%- if platform_column %}
        where touches.{{ platform_column }} is null
            or touches.{{ platform_column }} = campaigns.platform
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as candidates
    qualify row_number() over (
        partition by {{ key }}
        order by tie_rank, platform, campaign_id
    ) = 1
{%- endmacro %}

{% macro ad_ties(input, campaign_matches, ads, key='event_id') -%}
    select
        touches.{{ key }},
        ads.ad_group_id,
        ads.ad_id
    from {{ input }} as touches
    inner join {{ campaign_matches }} as campaign_matches
        on touches.{{ key }} = campaign_matches.{{ key }}
    inner join {{ ads }} as ads
        on campaign_matches.platform = ads.platform
        and campaign_matches.campaign_id = ads.campaign_id
        and (
            touches.utm_content = ads.ad_id
            or lower(touches.utm_content) = ads.ad_name_lower
        )
    qualify row_number() over (
        partition by touches.{{ key }}
        order by case when touches.utm_content = ads.ad_id then 1 else 2 end, ads.ad_id
    ) = 1
{%- endmacro %}
