{#-
    Spend and attributed outcomes side by side per report day x date basis x model x
    channel x platform x campaign. Two date bases: 'conversion' dates the credit on the
    conversion's day, 'touch' on the credited touch's day (the conversion's day for an
    empty path); spend is dated on its own day under both and repeated for every model,
    so each (basis, model) slice is a complete view. One attributed-conversions column
    per conversion type (<type>_conversions), generated from var('conversion_types').
-#}
{%- set types = conversion_type_names() -%}

with

ad_spend as (

    select * from {{ ref('fct_ad_spend_daily') }}

),

attributed as (

    select * from {{ ref('fct_attributed_conversions') }}

),

models as (

    {{ attribution_model_names_relation() }}

),

date_bases as (

    select cast('conversion' as {{ dbt.type_string() }}) as date_basis
    union all
    select cast('touch' as {{ dbt.type_string() }}) as date_basis

),

spend_rows as (

    select
        ad_spend.spend_date as report_date,
        date_bases.date_basis,
        models.model,
        ad_spend.channel,
        ad_spend.platform,
        ad_spend.campaign_id,
        ad_spend.spend,
        ad_spend.impressions,
        ad_spend.clicks,
        ad_spend.link_clicks,
        ad_spend.platform_conversions,
        cast(0 as {{ type_double() }}) as attributed_conversions,
        cast(0 as {{ type_double() }}) as attributed_value
        {%- for type in types %},
        cast(0 as {{ type_double() }}) as {{ type }}_conversions
        {%- endfor %}
    from ad_spend
    cross join date_bases
    cross join models

),

attributed_rows as (

    select
        case
            when date_bases.date_basis = 'touch' then attributed.touch_date
            else attributed.conversion_date
        end as report_date,
        date_bases.date_basis,
        attributed.model,
        attributed.channel,
        attributed.platform,
        attributed.campaign_id,
        cast(0 as {{ type_double() }}) as spend,
        cast(0 as {{ dbt.type_bigint() }}) as impressions,
        cast(0 as {{ dbt.type_bigint() }}) as clicks,
        cast(0 as {{ dbt.type_bigint() }}) as link_clicks,
        cast(0 as {{ type_double() }}) as platform_conversions,
        attributed.credit as attributed_conversions,
        attributed.attributed_value
        {%- for type in types %},
        case when attributed.conversion_type = {{ sql_string(type) }} then attributed.credit else 0 end
            as {{ type }}_conversions
        {%- endfor %}
    from attributed
    cross join date_bases

),

unioned as (

    select * from spend_rows
    union all
    select * from attributed_rows

),

final as (

    select
        report_date,
        date_basis,
        model,
        channel,
        platform,
        campaign_id,
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
    from unioned
    group by
        report_date,
        date_basis,
        model,
        channel,
        platform,
        campaign_id

)

select * from final
