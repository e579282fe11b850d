with

source as (

    select * from {{ source('lake', 'ad_delivery') }}

),

renamed as (

    select
        platform,
        account_id,
        account_name,
        account_timezone,
        upper(account_currency) as account_currency,
        spend_date,
        date_basis,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
        impressions,
        clicks,
        link_clicks,
        spend_micros,
        cast(spend_micros as {{ type_double() }}) / 1000000.0 as spend_account_currency,
        platform_conversions,
        platform_conversion_value,
        conversion_definition,
        source_file,
        file_hash,
        {{ utc_timestamp('delivered_at') }} as delivered_at,
        source as lake_source,
        date as lake_date
    from source
    where source <> '{{ var("lake_placeholder_source") }}'

),

final as (

    select * from renamed

)

select * from final
