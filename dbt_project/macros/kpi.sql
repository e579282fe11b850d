{#
    Macros of the KPI marts: KPI ratios of sums (shared by the daily, weekly and monthly
    KPI marts), the period roll-up, statistics for creative tests (normal distribution
    via an erf approximation, two-proportion z-test) and the targets relation. All
    portable: plain arithmetic, exp, sqrt, dbt cross-database macros.
#}


{% macro kpi_type_columns() -%}
    {#- {kpi: [<type>_conversions, ...]} for cpl, cps, cpi from var('conversion_types'). -#}
    {%- set kpi_types = {'cpl': [], 'cps': [], 'cpi': []} -%}
    {%- for name, spec in var('conversion_types').items() -%}
        {%- if spec.get('kpi', 'cpa') in kpi_types -%}
            {%- do kpi_types[spec.get('kpi', 'cpa')].append(name ~ '_conversions') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kpi_types) }}
{%- endmacro %}


{% macro kpi_ratio_columns() -%}
    {#-
        The KPI columns as ratios of the sums in scope (columns spend, clicks, impressions,
        attributed_conversions, attributed_value, <type>_conversions), null where the
        divisor is 0: cpc, cpm, ctr, cvr, cpa (spend / attributed conversions of all
        types), cpl, cps, cpi (spend / attributed conversions of the types whose kpi
        setting names them), roas. Cost KPIs (cpc, cpm, cpa, cpl, cps, cpi) are also null
        where there is no spend (organic channels, untied touches): their cost is unknown,
        not zero. mart_kpi_daily and the roll-ups all call this; roll-ups call it on summed
        columns, never on daily ratios.
    -#}
    {%- set kpi_types = kpi_type_columns() -%}
    {%- set cost_known = 'case when spend <> 0 then spend end' -%}
    {{ safe_divide(cost_known, 'clicks') }} as cpc,
    {{ safe_divide('1000 * ' ~ cost_known, 'impressions') }} as cpm,
    {{ safe_divide('clicks', 'impressions') }} as ctr,
    {{ safe_divide('attributed_conversions', 'clicks') }} as cvr,
    {{ safe_divide(cost_known, 'attributed_conversions') }} as cpa,
    {%- for kpi in ['cpl', 'cps', 'cpi'] %}
    {%- if kpi_types[kpi] %}
    {{ safe_divide(cost_known, '(' ~ (kpi_types[kpi] | join(' + ')) ~ ')') }} as {{ kpi }},
    {%- else %}
    cast(null as {{ type_double() }}) as {{ kpi }},
    {%- endif %}
    {%- endfor %}
    {{ safe_divide('attributed_value', 'spend') }} as roas
{%- endmacro %}


{% macro kpi_rollup(period) -%}
    {#-
        mart_kpi_daily rolled up to `period` ('week': ISO weeks from Monday, or 'month'):
        the additive columns of fct_channel_performance_daily are summed per period x date
        basis x model x channel x platform x campaign, then the KPIs are computed from the
        sums (kpi_ratio_columns), never as means of daily ratios.
    -#}
    {%- if period not in ['week', 'month'] -%}
        {{ exceptions.raise_compiler_error("kpi_rollup: period must be 'week' or 'month', got " ~ period) }}
    {%- endif -%}
    {%- set types = conversion_type_names() -%}
with

performance as (

    select * from {{ ref('fct_channel_performance_daily') }}

),

periods as (

    select
        cast({{ dbt.date_trunc(period, 'report_date') }} as date) as period_start,
        performance.*
    from performance

),

summed as (

    select
        period_start,
        date_basis,
        model,
        channel,
        platform,
        campaign_id,
        count(distinct report_date) as days_with_data,
        cast(sum(spend) as {{ type_double() }}) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        cast(sum(link_clicks) as {{ dbt.type_bigint() }}) as link_clicks,
        cast(sum(platform_conversions) as {{ type_double() }}) as platform_conversions,
        cast(sum(attributed_conversions) as {{ type_double() }}) as attributed_conversions,
        cast(sum(attributed_value) as {{ type_double() }}) as attributed_value
        {%- for type in types %},
        cast(sum({{ type }}_conversions) as {{ type_double() }}) as {{ type }}_conversions
        {%- endfor %}
    from periods
    group by
        period_start,
        date_basis,
        model,
        channel,
        platform,
        campaign_id

),

final as (

    select
        {{ surrogate_key(['period_start', 'date_basis', 'model', 'channel', 'platform', 'campaign_id']) }} as kpi_key,
        period_start as {{ period }}_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd(period, 1, 'period_start')) }} as date) as {{ period }}_end,
        date_basis,
        model,
        channel,
        platform,
        campaign_id,
        cast(days_with_data as integer) as days_with_data,
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
        {{ kpi_ratio_columns() | indent(8) }}
    from summed

)

select * from final
{%- endmacro %}


{#
    The complementary error function for x >= 0 by Abramowitz & Stegun 7.1.26
    (|error| <= 1.5e-7): erfc(x) = (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2),
    t = 1 / (1 + p x). `x` should be a column or a short expression (it is repeated).
#}
{% macro erfc_nonnegative(x) -%}
    (
        (1.0 / (1.0 + 0.3275911 * ({{ x }})))
        * (0.254829592
            + (1.0 / (1.0 + 0.3275911 * ({{ x }})))
            * (-0.284496736
                + (1.0 / (1.0 + 0.3275911 * ({{ x }})))
                * (1.421413741
                    + (1.0 / (1.0 + 0.3275911 * ({{ x }})))
                    * (-1.453152027
                        + (1.0 / (1.0 + 0.3275911 * ({{ x }}))) * 1.061405429))))
        * exp(-({{ x }}) * ({{ x }}))
    )
{%- endmacro %}


{# erf(x) for any x (odd function): sign(x) * (1 - erfc(|x|)). #}
{% macro erf(x) -%}
    (case
        when ({{ x }}) is null then null
        when ({{ x }}) < 0 then -(1.0 - {{ erfc_nonnegative('-(' ~ x ~ ')') }})
        else 1.0 - {{ erfc_nonnegative(x) }}
    end)
{%- endmacro %}


{# The standard normal CDF: Phi(z) = (1 + erf(z / sqrt 2)) / 2. #}
{% macro normal_cdf(z) -%}
    (0.5 * (1.0 + {{ erf('(' ~ z ~ ') / sqrt(2.0)') }}))
{%- endmacro %}


{#
    Two-sided p-value of a z statistic: 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2), computed
    directly from erfc so that small p-values keep their precision. Null when z is null.
#}
{% macro two_sided_p_value(z) -%}
    (case
        when ({{ z }}) is null then null
        else {{ erfc_nonnegative('abs(' ~ z ~ ') / sqrt(2.0)') }}
    end)
{%- endmacro %}


{#
    Pooled two-proportion z statistic of x1 successes in n1 trials against x2 in n2:
    z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2)), p = (x1 + x2) / (n1 + n2).
    Null when a group has no trials or the pooled proportion is 0 or 1 (no variance,
    also when fractional successes exceed the trials). Arguments are columns.
#}
{% macro two_proportion_z(x1, n1, x2, n2) -%}
    (case
        when {{ n1 }} is null or {{ n2 }} is null or {{ x1 }} is null or {{ x2 }} is null then null
        when {{ n1 }} <= 0 or {{ n2 }} <= 0 then null
        when ({{ x1 }} + {{ x2 }}) <= 0 or ({{ x1 }} + {{ x2 }}) >= ({{ n1 }} + {{ n2 }}) then null
        else
            (cast({{ x1 }} as {{ type_double() }}) / {{ n1 }} - cast({{ x2 }} as {{ type_double() }}) / {{ n2 }})
            / sqrt(
                (cast({{ x1 }} + {{ x2 }} as {{ type_double() }}) / ({{ n1 }} + {{ n2 }}))
                * (1.0 - cast({{ x1 }} + {{ x2 }} as {{ type_double() }}) / ({{ n1 }} + {{ n2 }}))
                * (1.0 / {{ n1 }} + 1.0 / {{ n2 }})
            )
    end)
{%- endmacro %}


{#
    The pacing targets of var('targets') as a relation: target_id, target_level
    ('campaign' or 'channel'), channel, platform, campaign_id, target_cpa, target_roas,
    daily_budget. A target names a campaign (platform + campaign_id) or a channel; an
    empty list gives an empty relation with the same columns.
#}
{% macro targets_relation() -%}
    {%- set rows = [] -%}
    {%- set seen = [] -%}
    {%- for target in var('targets') -%}
        {%- set campaign_id = target.get('campaign_id') -%}
        {%- set platform = target.get('platform') -%}
        {%- set channel = target.get('channel') -%}
        {%- if campaign_id is not none -%}
            {%- if platform is none -%}
                {{ exceptions.raise_compiler_error(
                    "targets[" ~ loop.index0 ~ "] names campaign_id " ~ campaign_id
                    ~ " without a platform; add platform (e.g. google_ads) to that target in the settings."
                ) }}
            {%- endif -%}
            {%- set level = 'campaign' -%}
            {%- set target_id = platform ~ ':' ~ campaign_id -%}
        {%- elif channel is not none -%}
            {%- set level = 'channel' -%}
            {%- set target_id = 'channel:' ~ channel -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "targets[" ~ loop.index0 ~ "] names neither a channel nor platform + campaign_id; "
                ~ "give each target one of them in the settings."
            ) }}
        {%- endif -%}
        {%- if target_id in seen -%}
            {{ exceptions.raise_compiler_error(
                "targets: " ~ target_id ~ " is listed twice; keep one target per campaign or channel in the settings."
            ) }}
        {%- endif -%}
        {%- do seen.append(target_id) -%}
        {%- do rows.append(
            "select "
            ~ "cast(" ~ sql_string(target_id) ~ " as " ~ dbt.type_string() ~ ") as target_id, "
            ~ "cast(" ~ sql_string(level) ~ " as " ~ dbt.type_string() ~ ") as target_level, "
            ~ _kpi_literal(channel if level == 'channel' else none, dbt.type_string()) ~ " as channel, "
            ~ _kpi_literal(platform if level == 'campaign' else none, dbt.type_string()) ~ " as platform, "
            ~ _kpi_literal(campaign_id, dbt.type_string()) ~ " as campaign_id, "
            ~ _kpi_literal(target.get('target_cpa'), type_double()) ~ " as target_cpa, "
            ~ _kpi_literal(target.get('target_roas'), type_double()) ~ " as target_roas, "
            ~ _kpi_literal(target.get('daily_budget'), type_double()) ~ " as daily_budget"
        ) -%}
    {%- endfor -%}
    {%- if rows | length == 0 -%}
    select
        cast(null as {{ dbt.type_string() }}) as target_id,
        cast(null as {{ dbt.type_string() }}) as target_level,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as platform,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ type_double() }}) as target_cpa,
        cast(null as {{ type_double() }}) as target_roas,
        cast(null as {{ type_double() }}) as daily_budget
    where 1 = 0
    {%- else -%}
    {{ rows | join('\n    union all\n    ') }}
    {%- endif -%}
{%- endmacro %}


{# A typed literal: a quoted string or a number, null when value is none. #}
{% macro _kpi_literal(value, data_type) -%}
    {%- if value is none -%}
        cast(null as {{ data_type }})
    {%- elif value is number -%}
        cast({{ value }} as {{ data_type }})
    {%- else -%}
        cast({{ sql_string(value) }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
