{#-
    Creatives per day: delivery of every ad (fct_ad_spend_daily rows with an ad id) and
    the conversions attributed to it under var('default_attribution_model'), dated on
    the day of the credited touch (the day of the click that led to the conversion),
    one row per report day x platform x ad. Names and the campaign / ad group are the
    ad's latest ones. Shared by mart_creative_performance and mart_creative_tests.
-#}

with

fct_ad_spend_daily as (

    select
        spend_date,
        platform,
        channel,
        account_id,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        spend,
        impressions,
        clicks
    from {{ ref('fct_ad_spend_daily') }}
    where ad_id is not null

),

fct_attributed_conversions as (

    select
        touch_date,
        platform,
        ad_id,
        credit,
        attributed_value
    from {{ ref('fct_attributed_conversions') }}
    where model = {{ sql_string(var('default_attribution_model')) }}
        and platform is not null
        and ad_id is not null

),

latest_ad_attributes as (

    select
        platform,
        ad_id,
        channel,
        account_id,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_name
    from fct_ad_spend_daily
    qualify row_number() over (
        partition by platform, ad_id
        order by spend_date desc, campaign_id, ad_group_id, account_id
    ) = 1

),

delivery_rows as (

    select
        spend_date as report_date,
        platform,
        ad_id,
        spend,
        impressions,
        clicks,
        cast(0 as {{ type_double() }}) as attributed_conversions,
        cast(0 as {{ type_double() }}) as attributed_value
    from fct_ad_spend_daily

),

conversion_rows as (

    select
        touch_date as report_date,
        platform,
        ad_id,
        cast(0 as {{ type_double() }}) as spend,
        cast(0 as {{ dbt.type_bigint() }}) as impressions,
        cast(0 as {{ dbt.type_bigint() }}) as clicks,
        credit as attributed_conversions,
        attributed_value
    from fct_attributed_conversions

),

unioned as (

    select * from delivery_rows
    union all
    select * from conversion_rows

),

daily as (

    select
        report_date,
        platform,
        ad_id,
        cast(sum(spend) as {{ type_double() }}) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        cast(sum(attributed_conversions) as {{ type_double() }}) as attributed_conversions,
        cast(sum(attributed_value) as {{ type_double() }}) as attributed_value
    from unioned
    group by
        report_date,
        platform,
        ad_id

),

final as (

    select
        daily.report_date,
        daily.platform,
        latest_ad_attributes.channel,
        latest_ad_attributes.account_id,
        latest_ad_attributes.campaign_id,
        latest_ad_attributes.campaign_name,
        latest_ad_attributes.ad_group_id,
        latest_ad_attributes.ad_group_name,
        daily.ad_id,
        latest_ad_attributes.ad_name,
        cast({{ sql_string(var('default_attribution_model')) }} as {{ dbt.type_string() }}) as model,
        daily.spend,
        daily.impressions,
        daily.clicks,
        daily.attributed_conversions,
        daily.attributed_value
    from daily
    left join latest_ad_attributes
        on daily.platform = latest_ad_attributes.platform
        and daily.ad_id = latest_ad_attributes.ad_id

)

select * from final
