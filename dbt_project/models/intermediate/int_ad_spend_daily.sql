{#-
    Unified daily spend, one row per day x platform x account x campaign x ad group x ad
    (x account currency), in the account currency and in the reporting currency at the
    rate of its own day. Three feeds:
    - ad_delivery: every ad platform (latest delivery of a restated grain wins);
    - affiliate cost: commission of non-reversed transactions, CJ negative corrections
      netted, per day x publisher (the publisher is the campaign and the ad group);
    - AppsFlyer cost of installs whose media source is not an ad platform we ingest (the
      platform's own spend already holds the others: adding them would count twice).
    The channel of a spend row comes from the channel rules (seed channel_rules) applied to
    the platform's default source and medium (seed platform_channels) and the campaign
    name, falling back to the platform's channel in that seed.
-#}

with

ad_delivery as (

    select * from {{ ref('stg_lake__ad_delivery') }}

),

affiliate_transactions as (

    select * from {{ ref('stg_lake__affiliate_transactions') }}

),

app_installs as (

    select * from {{ ref('stg_lake__app_installs') }}

),

fx_rates as (

    select rate_date, currency, rate_to_reporting from {{ ref('int_fx_rates_daily') }}

),

platform_channels as (

    select * from {{ ref('platform_channels') }}

),

delivery_latest as (

    select *
    from ad_delivery
    qualify row_number() over (
        partition by platform, account_id, spend_date, campaign_id, ad_group_id, ad_id
        order by delivered_at desc, lake_date desc, source_file desc
    ) = 1

),

delivery_rows as (

    select
        spend_date,
        platform,
        account_id,
        account_name,
        account_currency,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        coalesce(link_clicks, clicks, 0) as link_clicks,
        coalesce(spend_account_currency, 0) as spend_account_currency,
        coalesce(platform_conversions, 0) as platform_conversions,
        coalesce(platform_conversion_value, 0) as platform_conversion_value_account_currency,
        cast('ad_delivery' as {{ dbt.type_string() }}) as spend_source
    from delivery_latest

),

affiliate_latest as (

    -- a transaction is re-delivered as its status changes: the latest version wins
    select *
    from affiliate_transactions
    qualify row_number() over (
        partition by network, transaction_id
        order by updated_at desc nulls last, delivered_at desc, lake_date desc
    ) = 1

),

affiliate_costed as (

    -- originals count unless reversed; corrections (negative amounts) net against an
    -- original that still counts (or stand alone when the original is not in the lake)
    select
        corrections_and_originals.*
    from affiliate_latest as corrections_and_originals
    left join affiliate_latest as originals
        on corrections_and_originals.is_correction
        and originals.network = corrections_and_originals.network
        and originals.transaction_id = corrections_and_originals.original_transaction_id
    where
        (not corrections_and_originals.is_correction and corrections_and_originals.status <> 'reversed')
        or (corrections_and_originals.is_correction and coalesce(originals.status, 'approved') <> 'reversed')

),

affiliate_rows as (

    select
        transaction_date as spend_date,
        cast('affiliate' as {{ dbt.type_string() }}) as platform,
        coalesce(advertiser_id, network) as account_id,
        max(network) as account_name,
        currency as account_currency,
        publisher_id as campaign_id,
        max(publisher_name) as campaign_name,
        publisher_id as ad_group_id,
        max(publisher_name) as ad_group_name,
        cast(null as {{ dbt.type_string() }}) as ad_id,
        cast(null as {{ dbt.type_string() }}) as ad_name,
        cast(0 as {{ dbt.type_bigint() }}) as impressions,
        cast(0 as {{ dbt.type_bigint() }}) as clicks,
        cast(0 as {{ dbt.type_bigint() }}) as link_clicks,
        sum(coalesce(commission_amount, 0)) as spend_account_currency,
        cast(sum(case when is_correction then 0 else 1 end) as {{ type_double() }}) as platform_conversions,
        sum(coalesce(sale_amount, 0)) as platform_conversion_value_account_currency,
        cast('affiliate_transactions' as {{ dbt.type_string() }}) as spend_source
    from affiliate_costed
    group by
        transaction_date,
        coalesce(advertiser_id, network),
        currency,
        publisher_id

),

installs_with_cost as (

    select
        app_installs.*,
        {{ reporting_date('install_at') }} as install_date
    from app_installs
    where app_installs.is_primary_attribution
        and app_installs.cost_value is not null
        and not exists (
            select 1
            from platform_channels
            where platform_channels.mmp_media_source_regex is not null
                and {{ regex_match('lower(app_installs.media_source)', 'platform_channels.mmp_media_source_regex') }}
        )

),

install_rows as (

    select
        install_date as spend_date,
        cast('appsflyer' as {{ dbt.type_string() }}) as platform,
        app_id as account_id,
        max(media_source) as account_name,
        coalesce(cost_currency, 'USD') as account_currency,
        campaign_id,
        max(campaign_name) as campaign_name,
        adset_id as ad_group_id,
        max(adset_name) as ad_group_name,
        ad_id,
        max(ad_name) as ad_name,
        cast(0 as {{ dbt.type_bigint() }}) as impressions,
        cast(0 as {{ dbt.type_bigint() }}) as clicks,
        cast(0 as {{ dbt.type_bigint() }}) as link_clicks,
        sum(cost_value) as spend_account_currency,
        cast(count(*) as {{ type_double() }}) as platform_conversions,
        cast(0 as {{ type_double() }}) as platform_conversion_value_account_currency,
        cast('app_installs' as {{ dbt.type_string() }}) as spend_source
    from installs_with_cost
    group by
        install_date,
        app_id,
        coalesce(cost_currency, 'USD'),
        campaign_id,
        adset_id,
        ad_id

),

unioned as (

    select * from delivery_rows
    union all
    select * from affiliate_rows
    union all
    select * from install_rows

),

campaign_rule_input as (

    -- Each campaign is classified by the same channel rules as the touches it buys: the
    -- platform's default source and medium plus the campaign's own name (so a Google
    -- "Shopping" campaign is Paid Shopping on both sides of the join).
    select distinct
        {{ dbt.concat(["unioned.platform", "'|'", "coalesce(unioned.campaign_name, '')"]) }} as campaign_key,
        lower(platform_channels.default_source) as source,
        lower(platform_channels.default_medium) as medium,
        lower(unioned.campaign_name) as campaign,
        cast(null as {{ dbt.type_string() }}) as click_id_type
    from unioned
    inner join platform_channels
        on unioned.platform = platform_channels.platform

),

campaign_channels as (

    {{ classify_channels('campaign_rule_input', 'campaign_key') }}

),

converted as (

    select
        unioned.*,
        coalesce(
            nullif(campaign_channels.channel, 'Unassigned'),
            platform_channels.channel,
            'Unassigned'
        ) as channel,
        fx_rates.rate_to_reporting as fx_rate
    from unioned
    left join platform_channels
        on unioned.platform = platform_channels.platform
    left join campaign_channels
        on {{ dbt.concat(["unioned.platform", "'|'", "coalesce(unioned.campaign_name, '')"]) }}
        = campaign_channels.campaign_key
    left join fx_rates
        on unioned.account_currency = fx_rates.currency
        and unioned.spend_date = fx_rates.rate_date

),

final as (

    select
        {{ surrogate_key(['spend_date', 'platform', 'account_id', 'campaign_id', 'ad_group_id', 'ad_id', 'account_currency']) }} as spend_key,
        spend_date,
        platform,
        channel,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        account_currency,
        cast(spend_account_currency as {{ type_double() }}) as spend_account_currency,
        cast(fx_rate as {{ type_double() }}) as fx_rate,
        cast(spend_account_currency * fx_rate as {{ type_double() }}) as spend,
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
        cast(platform_conversions as {{ type_double() }}) as platform_conversions,
        cast(platform_conversion_value_account_currency as {{ type_double() }}) as platform_conversion_value_account_currency,
        cast(platform_conversion_value_account_currency * fx_rate as {{ type_double() }}) as platform_conversion_value,
        spend_source
    from converted

)

select * from final
