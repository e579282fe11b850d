with

source as (

    select * from {{ source('lake', 'affiliate_transactions') }}

),

renamed as (

    select
        network,
        transaction_id,
        order_id,
        advertiser_id,
        publisher_id,
        publisher_name,
        sub_id,
        {{ utc_timestamp('event_at') }} as event_at,
        {{ utc_timestamp('click_at') }} as click_at,
        transaction_date,
        lower(status) as status,
        raw_status,
        sale_amount,
        commission_amount,
        upper(currency) as currency,
        coalesce(is_correction, false) as is_correction,
        original_transaction_id,
        {{ utc_timestamp('updated_at') }} as updated_at,
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
