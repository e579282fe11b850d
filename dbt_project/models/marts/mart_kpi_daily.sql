{#-
    KPIs per report day x date basis x model x channel x platform x campaign, as ratios
    of sums at that grain (null where the divisor is 0):
    cpc = spend / clicks, cpm = 1000 x spend / impressions, ctr = clicks / impressions,
    cvr = attributed conversions / clicks, roas = attributed value / spend, and
    cpl, cpa, cps, cpi = spend / attributed conversions of the conversion types whose
    `kpi` setting is that KPI (default: lead -> cpl, sign_up -> cpa, purchase -> cps,
    install -> cpi).
-#}
{%- set types = conversion_type_names() -%}
{%- set kpi_types = {'cpl': [], 'cpa': [], 'cps': [], 'cpi': []} -%}
{%- for name, spec in var('conversion_types').items() -%}
    {%- if spec.get('kpi', 'cpa') in kpi_types -%}
        {%- do kpi_types[spec.get('kpi', 'cpa')].append(name ~ '_conversions') -%}
    {%- endif -%}
{%- endfor -%}

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
        {{ safe_divide('spend', 'clicks') }} as cpc,
        {{ safe_divide('1000 * spend', 'impressions') }} as cpm,
        {{ safe_divide('clicks', 'impressions') }} as ctr,
        {{ safe_divide('attributed_conversions', 'clicks') }} as cvr,
        {%- for kpi in ['cpl', 'cpa', 'cps', 'cpi'] %}
        {%- if kpi_types[kpi] %}
        {{ safe_divide('spend', '(' ~ (kpi_types[kpi] | join(' + ')) ~ ')') }} as {{ kpi }},
        {%- else %}
        cast(null as {{ type_double() }}) as {{ kpi }},
        {%- endif %}
        {%- endfor %}
        {{ safe_divide('attributed_value', 'spend') }} as roas
    from performance

)

select * from final
