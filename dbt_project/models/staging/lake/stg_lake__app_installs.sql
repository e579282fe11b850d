with

source as (

    select * from {{ source('lake', 'app_installs') }}

),

renamed as (

    select
        mmp,
        install_id,
        app_id,
        {{ utc_timestamp('install_at') }} as install_at,
        {{ utc_timestamp('touch_at') }} as touch_at,
        touch_type,
        media_source,
        channel,
        campaign_id,
        campaign_name,
        adset_id,
        adset_name,
        ad_id,
        ad_name,
        cost_model,
        cost_value,
        upper(cost_currency) as cost_currency,
        customer_user_id,
        device_id_hash,
        coalesce(is_primary_attribution, true) as is_primary_attribution,
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
