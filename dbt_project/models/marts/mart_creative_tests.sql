{#-
    Creative tests: every ad against the rest of its test group (its ad group; the
    campaign when the platform has no ad groups) over all days of data, with pooled
    two-proportion z-tests of CTR (clicks of impressions) and CVR (conversions under
    var default_attribution_model, of clicks) and their two-sided p-values from the
    normal distribution (macros/kpi.sql: erf by Abramowitz-Stegun 7.1.26, error below
    1.5e-7). z is rounded to 4 decimals and p to 6, within the approximation's accuracy.
    Significant when p < var('creative_test_alpha'); the sign of z says which side wins.
-#}

with

int_creative_daily as (

    select * from {{ ref('int_creative_daily') }}

),

ads as (

    select
        platform,
        ad_id,
        max(channel) as channel,
        max(campaign_id) as campaign_id,
        max(campaign_name) as campaign_name,
        max(ad_group_id) as ad_group_id,
        max(ad_group_name) as ad_group_name,
        max(coalesce(ad_group_id, campaign_id)) as test_group_id,
        max(ad_name) as ad_name,
        max(model) as model,
        min(report_date) as first_date,
        max(report_date) as last_date,
        cast(sum(spend) as {{ type_double() }}) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        cast(sum(attributed_conversions) as {{ type_double() }}) as attributed_conversions
    from int_creative_daily
    group by
        platform,
        ad_id

),

test_groups as (

    select
        platform,
        test_group_id,
        count(*) as ads_in_group,
        sum(impressions) as group_impressions,
        sum(clicks) as group_clicks,
        sum(attributed_conversions) as group_attributed_conversions
    from ads
    where test_group_id is not null
    group by
        platform,
        test_group_id

),

against_the_rest as (

    select
        ads.*,
        test_groups.ads_in_group,
        test_groups.group_impressions - ads.impressions as rest_impressions,
        test_groups.group_clicks - ads.clicks as rest_clicks,
        test_groups.group_attributed_conversions - ads.attributed_conversions
            as rest_attributed_conversions
    from ads
    left join test_groups
        on ads.platform = test_groups.platform
        and ads.test_group_id = test_groups.test_group_id

),

z_scores as (

    select
        against_the_rest.*,
        {{ two_proportion_z('clicks', 'impressions', 'rest_clicks', 'rest_impressions') }} as ctr_z_raw,
        {{ two_proportion_z('attributed_conversions', 'clicks', 'rest_attributed_conversions', 'rest_clicks') }}
            as cvr_z_raw
    from against_the_rest

),

p_values as (

    select
        z_scores.*,
        {{ two_sided_p_value('ctr_z_raw') }} as ctr_p_raw,
        {{ two_sided_p_value('cvr_z_raw') }} as cvr_p_raw
    from z_scores

),

final as (

    select
        platform,
        channel,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        test_group_id,
        ad_id,
        ad_name,
        model,
        first_date,
        last_date,
        cast(coalesce(ads_in_group, 1) as integer) as ads_in_group,
        spend,
        impressions,
        clicks,
        attributed_conversions,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('attributed_conversions', 'clicks') }} as cvr,
        cast(rest_impressions as {{ dbt.type_bigint() }}) as rest_impressions,
        cast(rest_clicks as {{ dbt.type_bigint() }}) as rest_clicks,
        cast(rest_attributed_conversions as {{ type_double() }}) as rest_attributed_conversions,
        {{ safe_divide('rest_clicks', 'rest_impressions') }} as rest_ctr,
        {{ safe_divide('rest_attributed_conversions', 'rest_clicks') }} as rest_cvr,
        cast(round(ctr_z_raw, 4) as {{ type_double() }}) as ctr_z,
        cast(round(ctr_p_raw, 6) as {{ type_double() }}) as ctr_p_value,
        ctr_p_raw < {{ var('creative_test_alpha') }} as is_ctr_significant,
        cast(round(cvr_z_raw, 4) as {{ type_double() }}) as cvr_z,
        cast(round(cvr_p_raw, 6) as {{ type_double() }}) as cvr_p_value,
        cvr_p_raw < {{ var('creative_test_alpha') }} as is_cvr_significant
    from p_values

)

select * from final
