{#-
    What each platform reports against what first-party data attributes to it, per day x
    platform x campaign x attribution model (long form). Platform numbers are those of
    fct_ad_spend_daily (the platform's own attribution, dated on its spend day) and are
    repeated for every model; first-party numbers are the credits of touches on the
    platform (fct_attributed_conversions), dated on the credited touch's day, as the
    platforms date conversions on the day of the ad interaction by default. Touches of
    a platform not tied to one of its campaigns have a null campaign_id.
-#}

with

fct_ad_spend_daily as (

    select
        spend_date,
        platform,
        campaign_id,
        campaign_name,
        spend,
        platform_conversions,
        platform_conversion_value
    from {{ ref('fct_ad_spend_daily') }}

),

fct_attributed_conversions as (

    select
        touch_date,
        platform,
        campaign_id,
        model,
        credit,
        attributed_value
    from {{ ref('fct_attributed_conversions') }}
    where platform is not null

),

models as (

    {{ attribution_model_names_relation() }}

),

campaign_names as (

    select
        platform,
        campaign_id,
        campaign_name
    from fct_ad_spend_daily
    where campaign_id is not null
    qualify row_number() over (
        partition by platform, campaign_id
        order by spend_date desc, campaign_name
    ) = 1

),

platform_rows as (

    select
        fct_ad_spend_daily.spend_date as report_date,
        fct_ad_spend_daily.platform,
        fct_ad_spend_daily.campaign_id,
        models.model,
        fct_ad_spend_daily.spend,
        fct_ad_spend_daily.platform_conversions,
        fct_ad_spend_daily.platform_conversion_value,
        cast(0 as {{ type_double() }}) as attributed_conversions,
        cast(0 as {{ type_double() }}) as attributed_value
    from fct_ad_spend_daily
    cross join models

),

first_party_rows as (

    select
        touch_date as report_date,
        platform,
        campaign_id,
        model,
        cast(0 as {{ type_double() }}) as spend,
        cast(0 as {{ type_double() }}) as platform_conversions,
        cast(0 as {{ type_double() }}) as platform_conversion_value,
        credit as attributed_conversions,
        attributed_value
    from fct_attributed_conversions

),

unioned as (

    select * from platform_rows
    union all
    select * from first_party_rows

),

summed as (

    select
        report_date,
        platform,
        campaign_id,
        model,
        sum(spend) as spend,
        sum(coalesce(platform_conversions, 0)) as platform_conversions,
        sum(coalesce(platform_conversion_value, 0)) as platform_conversion_value,
        sum(attributed_conversions) as attributed_conversions,
        sum(attributed_value) as attributed_value
    from unioned
    group by
        report_date,
        platform,
        campaign_id,
        model

),

final as (

    select
        {{ surrogate_key(['summed.report_date', 'summed.platform', 'summed.campaign_id', 'summed.model']) }}
            as reconciliation_key,
        summed.report_date,
        summed.platform,
        summed.campaign_id,
        campaign_names.campaign_name,
        summed.model,
        cast(summed.spend as {{ type_double() }}) as spend,
        cast(summed.platform_conversions as {{ type_double() }}) as platform_conversions,
        cast(summed.platform_conversion_value as {{ type_double() }}) as platform_conversion_value,
        cast(summed.attributed_conversions as {{ type_double() }}) as attributed_conversions,
        cast(summed.attributed_value as {{ type_double() }}) as attributed_value,
        cast(summed.platform_conversions - summed.attributed_conversions as {{ type_double() }})
            as conversion_difference,
        {{ safe_divide('summed.platform_conversions', 'summed.attributed_conversions') }}
            as platform_to_first_party_conversion_ratio,
        {{ safe_divide('summed.platform_conversion_value', 'summed.attributed_value') }}
            as platform_to_first_party_value_ratio
    from summed
    left join campaign_names
        on summed.platform = campaign_names.platform
        and summed.campaign_id = campaign_names.campaign_id

)

select * from final
