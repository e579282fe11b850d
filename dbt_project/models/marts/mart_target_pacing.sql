{#-
    Actuals against the targets of var('targets') per target x day, over every day from
    the first to the last day of data (spend or conversions). A target is a campaign
    (platform + campaign_id) or a channel. Conversions and value are attributed under
    var('default_attribution_model'), all conversion types, dated on the conversion day.

    Daily: spend, cpa = spend / conversions, roas = value / spend, budget_pacing = spend /
    daily_budget. Month to date (the 1st of the month to the row's day): mtd_budget =
    daily_budget x day of month, mtd_pacing = mtd_spend / mtd_budget; pacing_status
    'over' / 'under' beyond +/- var('pacing_tolerance') of 1, else 'on_track'.
    cpa_status ('on_target', 'over_target', 'no_conversions') and roas_status
    ('on_target', 'under_target') judge the month-to-date CPA and ROAS; null without a
    target or without spend.
-#}

with

targets as (

    {{ targets_relation() }}

),

fct_ad_spend_daily as (

    select
        spend_date,
        channel,
        platform,
        campaign_id,
        spend
    from {{ ref('fct_ad_spend_daily') }}

),

fct_attributed_conversions as (

    select
        conversion_date,
        channel,
        platform,
        campaign_id,
        credit,
        attributed_value
    from {{ ref('fct_attributed_conversions') }}
    where model = {{ sql_string(var('default_attribution_model')) }}

),

metricflow_time_spine as (

    select date_day from {{ ref('metricflow_time_spine') }}

),

data_span as (

    select
        min(first_day) as first_day,
        max(last_day) as last_day
    from (
        select min(spend_date) as first_day, max(spend_date) as last_day from fct_ad_spend_daily
        union all
        select min(conversion_date) as first_day, max(conversion_date) as last_day
        from fct_attributed_conversions
    ) as spans

),

calendar as (

    select metricflow_time_spine.date_day as report_date
    from metricflow_time_spine
    inner join data_span
        on metricflow_time_spine.date_day between data_span.first_day and data_span.last_day

),

target_spend as (

    select
        targets.target_id,
        fct_ad_spend_daily.spend_date as report_date,
        sum(fct_ad_spend_daily.spend) as spend
    from targets
    inner join fct_ad_spend_daily
        on (targets.target_level = 'campaign'
            and fct_ad_spend_daily.platform = targets.platform
            and fct_ad_spend_daily.campaign_id = targets.campaign_id)
        or (targets.target_level = 'channel'
            and fct_ad_spend_daily.channel = targets.channel)
    group by
        targets.target_id,
        fct_ad_spend_daily.spend_date

),

target_outcomes as (

    select
        targets.target_id,
        fct_attributed_conversions.conversion_date as report_date,
        sum(fct_attributed_conversions.credit) as attributed_conversions,
        sum(fct_attributed_conversions.attributed_value) as attributed_value
    from targets
    inner join fct_attributed_conversions
        on (targets.target_level = 'campaign'
            and fct_attributed_conversions.platform = targets.platform
            and fct_attributed_conversions.campaign_id = targets.campaign_id)
        or (targets.target_level = 'channel'
            and fct_attributed_conversions.channel = targets.channel)
    group by
        targets.target_id,
        fct_attributed_conversions.conversion_date

),

daily as (

    select
        targets.target_id,
        targets.target_level,
        targets.channel,
        targets.platform,
        targets.campaign_id,
        targets.target_cpa,
        targets.target_roas,
        targets.daily_budget,
        calendar.report_date,
        cast({{ dbt.date_trunc('month', 'calendar.report_date') }} as date) as month_start,
        cast(extract(day from calendar.report_date) as integer) as day_of_month,
        coalesce(target_spend.spend, 0) as spend,
        coalesce(target_outcomes.attributed_conversions, 0) as attributed_conversions,
        coalesce(target_outcomes.attributed_value, 0) as attributed_value
    from targets
    cross join calendar
    left join target_spend
        on targets.target_id = target_spend.target_id
        and calendar.report_date = target_spend.report_date
    left join target_outcomes
        on targets.target_id = target_outcomes.target_id
        and calendar.report_date = target_outcomes.report_date

),

month_to_date as (

    select
        daily.*,
        sum(spend) over (
            partition by target_id, month_start
            order by report_date
            rows between unbounded preceding and current row
        ) as mtd_spend,
        sum(attributed_conversions) over (
            partition by target_id, month_start
            order by report_date
            rows between unbounded preceding and current row
        ) as mtd_attributed_conversions,
        sum(attributed_value) over (
            partition by target_id, month_start
            order by report_date
            rows between unbounded preceding and current row
        ) as mtd_attributed_value,
        daily_budget * day_of_month as mtd_budget
    from daily

),

ratios as (

    select
        month_to_date.*,
        {{ safe_divide('spend', 'attributed_conversions') }} as cpa,
        {{ safe_divide('attributed_value', 'spend') }} as roas,
        {{ safe_divide('spend', 'daily_budget') }} as budget_pacing,
        {{ safe_divide('mtd_spend', 'mtd_attributed_conversions') }} as mtd_cpa,
        {{ safe_divide('mtd_attributed_value', 'mtd_spend') }} as mtd_roas,
        {{ safe_divide('mtd_spend', 'mtd_budget') }} as mtd_pacing
    from month_to_date

),

final as (

    select
        target_id,
        report_date,
        target_level,
        channel,
        platform,
        campaign_id,
        month_start,
        day_of_month,
        cast(target_cpa as {{ type_double() }}) as target_cpa,
        cast(target_roas as {{ type_double() }}) as target_roas,
        cast(daily_budget as {{ type_double() }}) as daily_budget,
        cast(spend as {{ type_double() }}) as spend,
        cast(attributed_conversions as {{ type_double() }}) as attributed_conversions,
        cast(attributed_value as {{ type_double() }}) as attributed_value,
        cpa,
        roas,
        budget_pacing,
        cast(mtd_spend as {{ type_double() }}) as mtd_spend,
        cast(mtd_budget as {{ type_double() }}) as mtd_budget,
        cast(mtd_attributed_conversions as {{ type_double() }}) as mtd_attributed_conversions,
        cast(mtd_attributed_value as {{ type_double() }}) as mtd_attributed_value,
        mtd_cpa,
        mtd_roas,
        mtd_pacing,
        cast(case
            when mtd_pacing is null then null
            when mtd_pacing > 1 + {{ var('pacing_tolerance') }} then 'over'
            when mtd_pacing < 1 - {{ var('pacing_tolerance') }} then 'under'
            else 'on_track'
        end as {{ dbt.type_string() }}) as pacing_status,
        cast(case
            when target_cpa is null or mtd_spend is null or mtd_spend = 0 then null
            when mtd_attributed_conversions = 0 then 'no_conversions'
            when mtd_cpa <= target_cpa then 'on_target'
            else 'over_target'
        end as {{ dbt.type_string() }}) as cpa_status,
        cast(case
            when target_roas is null or mtd_spend is null or mtd_spend = 0 then null
            when mtd_roas >= target_roas then 'on_target'
            else 'under_target'
        end as {{ dbt.type_string() }}) as roas_status
    from ratios

)

select * from final
