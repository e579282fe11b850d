with

source as (

    select * from {{ source('lake', 'fx_rates') }}

),

renamed as (

    select
        rate_date,
        upper(base_currency) as base_currency,
        upper(currency) as currency,
        rate,
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
