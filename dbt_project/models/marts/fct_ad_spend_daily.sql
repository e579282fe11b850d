{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        **replace_slices_by(['spend_date']),
    )
}}
{#-
    Daily spend and delivery per day x platform x account x campaign x ad group x ad, in
    the reporting currency. Incremental: a run re-reads the last
    var('restatement_window_days') days before the latest day already built (platforms
    restate recent days) and replaces those days whole.
-#}

with

ad_spend as (

    select * from {{ ref('int_ad_spend_daily') }}
    {%- if is_incremental() %}
    where spend_date >= (
        select cast({{ dbt.dateadd('day', -var('restatement_window_days'), 'max(spend_date)') }} as date)
        from {{ this }}
    )
    {%- endif %}

),

final as (

    select
        spend_key,
        spend_date,
        platform,
        channel,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        account_currency,
        spend_account_currency,
        fx_rate,
        spend,
        impressions,
        clicks,
        link_clicks,
        platform_conversions,
        platform_conversion_value,
        spend_source
    from ad_spend

)

select * from final
