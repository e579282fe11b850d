{#-
    KPIs per report day x date basis x model x channel x platform x campaign, as ratios
    of sums at that grain, null where the divisor is 0:
    cpc = spend / clicks, cpm = 1000 x spend / impressions, ctr = clicks / impressions,
    cvr = attributed conversions / clicks, roas = attributed value / spend,
    cpa = spend / attributed conversions (all types), and cpl, cps, cpi = spend /
    attributed conversions of the conversion types whose `kpi` setting names them
    (default: lead -> cpl, purchase -> cps, install -> cpi).
    Cost KPIs (cpc, cpm, cpa, cpl, cps, cpi) are also null on rows without spend (organic
    channels, untied touches): their cost is unknown, not zero. The formulas are
    macros/kpi.sql kpi_ratio_columns(), shared with the weekly and monthly roll-ups.
-#}
{%- set types = conversion_type_names() -%}

with

performance as (

    select * from {{ ref('fct_channel_performance_daily') }}

),

final as (

    select
        report_date,
        date_basis,
        model,
        channel,
        platform,
        campaign_id,
        spend,
        impressions,
        clicks,
        link_clicks,
        platform_conversions,
        attributed_conversions,
        attributed_value,
        {%- for type in types %}
        {{ type }}_conversions,
        {%- endfor %}
        {{ kpi_ratio_columns() }}
    from performance

)

select * from final
