{#-
    Creative performance per ad x day (int_creative_daily; conversions under var
    default_attribution_model, dated on the credited touch's day) with a fatigue flag.

    Launch window: the ad's first 7 days from its first day with impressions (days 0-6).
    Trailing window: the 7 calendar days ending on the row's day. is_fatigued when the
    trailing CTR is var('fatigue_drop') or more below the launch CTR (1e-9 tolerance for
    float rounding), both windows hold at least var('fatigue_min_impressions')
    impressions, and the windows do not overlap (day 13 or later since the first
    impression), so that the launch days are never compared with themselves.
-#}

with

int_creative_daily as (

    select * from {{ ref('int_creative_daily') }}

),

first_impressions as (

    select
        platform,
        ad_id,
        min(case when impressions > 0 then report_date end) as first_impression_date
    from int_creative_daily
    group by
        platform,
        ad_id

),

dated as (

    select
        int_creative_daily.*,
        first_impressions.first_impression_date,
        {{ dbt.datediff('first_impressions.first_impression_date', 'int_creative_daily.report_date', 'day') }}
            as days_since_first_impression,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'int_creative_daily.report_date', 'day') }}
            as day_number
    from int_creative_daily
    left join first_impressions
        on int_creative_daily.platform = first_impressions.platform
        and int_creative_daily.ad_id = first_impressions.ad_id

),

windowed as (

    select
        dated.*,
        sum(case when days_since_first_impression between 0 and 6 then impressions else 0 end)
            over (partition by platform, ad_id) as launch_impressions,
        sum(case when days_since_first_impression between 0 and 6 then clicks else 0 end)
            over (partition by platform, ad_id) as launch_clicks,
        sum(impressions) over (
            partition by platform, ad_id
            order by day_number
            range between 6 preceding and current row
        ) as trailing_7d_impressions,
        sum(clicks) over (
            partition by platform, ad_id
            order by day_number
            range between 6 preceding and current row
        ) as trailing_7d_clicks
    from dated

),

ratios as (

    select
        windowed.*,
        {{ safe_divide('launch_clicks', 'launch_impressions') }} as launch_ctr,
        {{ safe_divide('trailing_7d_clicks', 'trailing_7d_impressions') }} as trailing_7d_ctr
    from windowed

),

fatigue as (

    select
        ratios.*,
        case
            when days_since_first_impression >= 13
                and launch_impressions >= {{ var('fatigue_min_impressions') }}
                and trailing_7d_impressions >= {{ var('fatigue_min_impressions') }}
                and launch_ctr > 0
                then trailing_7d_ctr / launch_ctr - 1
        end as ctr_change_vs_launch
    from ratios

),

final as (

    select
        report_date,
        platform,
        channel,
        account_id,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        model,
        spend,
        impressions,
        clicks,
        attributed_conversions,
        attributed_value,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('attributed_conversions', 'clicks') }} as cvr,
        {{ safe_divide('spend', 'clicks') }} as cpc,
        {{ safe_divide('spend', 'attributed_conversions') }} as cpa,
        {{ safe_divide('attributed_value', 'spend') }} as roas,
        first_impression_date,
        cast(days_since_first_impression as integer) as days_since_first_impression,
        cast(launch_impressions as {{ dbt.type_bigint() }}) as launch_impressions,
        cast(launch_clicks as {{ dbt.type_bigint() }}) as launch_clicks,
        launch_ctr,
        cast(trailing_7d_impressions as {{ dbt.type_bigint() }}) as trailing_7d_impressions,
        cast(trailing_7d_clicks as {{ dbt.type_bigint() }}) as trailing_7d_clicks,
        trailing_7d_ctr,
        ctr_change_vs_launch,
        coalesce(ctr_change_vs_launch <= -{{ var('fatigue_drop') }} + 1e-9, false) as is_fatigued
    from fatigue

)

select * from final
