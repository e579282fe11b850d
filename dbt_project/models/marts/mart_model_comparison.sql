{#-
    Attribution models side by side per channel, over all data. Long form: one row per
    channel x enabled model with its conversions, value and shares of the model's totals
    (every model conserves the totals, so shares compare directly), the channel's spend
    and the cost per conversion and ROAS the model implies. Wide form on the same rows:
    <model>_conversions, <model>_value and <model>_conversion_share for every built-in
    model of var('comparison_models') (null when that model is not enabled), so a
    channel's row shows all models at once. Models added as dbt files appear in the long
    form only, which keeps the contract's columns fixed.
-#}
{%- set wide_models = var('comparison_models') -%}

with

fct_attributed_conversions as (

    select
        model,
        channel,
        credit,
        attributed_value
    from {{ ref('fct_attributed_conversions') }}

),

fct_ad_spend_daily as (

    select
        channel,
        spend
    from {{ ref('fct_ad_spend_daily') }}

),

models as (

    {{ attribution_model_names_relation() }}

),

channels as (

    select channel from fct_attributed_conversions
    union
    select channel from fct_ad_spend_daily

),

channel_spend as (

    select
        channel,
        sum(spend) as spend
    from fct_ad_spend_daily
    group by channel

),

channel_model_totals as (

    select
        channel,
        model,
        sum(credit) as attributed_conversions,
        sum(attributed_value) as attributed_value
    from fct_attributed_conversions
    group by
        channel,
        model

),

model_totals as (

    select
        model,
        sum(credit) as total_conversions,
        sum(attributed_value) as total_value
    from fct_attributed_conversions
    group by model

),

long_form as (

    select
        channels.channel,
        models.model,
        models.model_order,
        coalesce(channel_model_totals.attributed_conversions, 0) as attributed_conversions,
        coalesce(channel_model_totals.attributed_value, 0) as attributed_value,
        model_totals.total_conversions,
        model_totals.total_value,
        coalesce(channel_spend.spend, 0) as spend
    from channels
    cross join models
    left join channel_model_totals
        on channels.channel = channel_model_totals.channel
        and models.model = channel_model_totals.model
    left join model_totals
        on models.model = model_totals.model
    left join channel_spend
        on channels.channel = channel_spend.channel

),

with_shares as (

    select
        long_form.*,
        {{ safe_divide('attributed_conversions', 'total_conversions') }} as conversion_share,
        {{ safe_divide('attributed_value', 'total_value') }} as value_share
    from long_form

),

wide_form as (

    select
        channel
        {%- for name in wide_models %},
        max(case when model = {{ sql_string(name) }} then attributed_conversions end) as {{ name }}_conversions,
        max(case when model = {{ sql_string(name) }} then attributed_value end) as {{ name }}_value,
        max(case when model = {{ sql_string(name) }} then conversion_share end) as {{ name }}_conversion_share
        {%- endfor %}
    from with_shares
    group by channel

),

final as (

    select
        with_shares.channel,
        with_shares.model,
        cast(with_shares.model_order as integer) as model_order,
        cast(with_shares.attributed_conversions as {{ type_double() }}) as attributed_conversions,
        cast(with_shares.attributed_value as {{ type_double() }}) as attributed_value,
        cast(with_shares.conversion_share as {{ type_double() }}) as conversion_share,
        cast(with_shares.value_share as {{ type_double() }}) as value_share,
        cast(with_shares.spend as {{ type_double() }}) as spend,
        {{ safe_divide('with_shares.spend', 'with_shares.attributed_conversions') }} as cost_per_conversion,
        {{ safe_divide('with_shares.attributed_value', 'with_shares.spend') }} as roas
        {%- for name in wide_models %},
        cast(wide_form.{{ name }}_conversions as {{ type_double() }}) as {{ name }}_conversions,
        cast(wide_form.{{ name }}_value as {{ type_double() }}) as {{ name }}_value,
        cast(wide_form.{{ name }}_conversion_share as {{ type_double() }}) as {{ name }}_conversion_share
        {%- endfor %}
    from with_shares
    inner join wide_form
        on with_shares.channel = wide_form.channel

)

select * from final
