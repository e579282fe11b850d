with

source as (

    select * from {{ source('lake', 'events') }}

),

renamed as (

    select
        event_id,
        event_type,
        event_name,
        {{ utc_timestamp('event_at') }} as event_at,
        {{ utc_timestamp('received_at') }} as received_at,
        anonymous_id,
        user_id,
        page_url,
        referrer_url,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_term,
        utm_content,
        utm_id,
        lower(click_id_type) as click_id_type,
        click_id,
        order_id,
        revenue,
        upper(currency) as currency,
        email_hash,
        phone_hash,
        properties_json,
        source_file,
        file_hash,
        {{ utc_timestamp('delivered_at') }} as delivered_at,
        -- as stored: a filter on it with a literal lets the Parquet reader skip the row
        -- groups of older deliveries by their statistics (delivered_since)
        delivered_at as lake_delivered_at,
        source as lake_source,
        date as lake_date
    from source
    where source <> '{{ var("lake_placeholder_source") }}'

),

final as (

    select * from renamed

)

select * from final
