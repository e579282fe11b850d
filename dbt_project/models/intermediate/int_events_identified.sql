{#-
    First-party events, deduplicated by event_id (defensively: ingestion already does),
    with the person they belong to (int_identity_map) and their day in the reporting
    time zone. An event's own user id wins over its anonymous id's link; an event with no
    id at all is its own person (so its conversion still counts, with an empty path).
-#}

with

events as (

    select * from {{ ref('stg_lake__events') }}

),

identity_map as (

    select anonymous_id, person_key from {{ ref('int_identity_map') }}

),

deduplicated as (

    select *
    from events
    qualify row_number() over (
        partition by event_id
        order by delivered_at desc, lake_date desc, received_at desc
    ) = 1

),

final as (

    select
        deduplicated.event_id,
        case
            when deduplicated.user_id is not null
                then {{ stable_hash(dbt.concat(["'user:'", 'deduplicated.user_id'])) }}
            when identity_map.person_key is not null
                then identity_map.person_key
            else {{ stable_hash(dbt.concat(["'event:'", 'deduplicated.event_id'])) }}
        end as person_key,
        deduplicated.event_type,
        deduplicated.event_name,
        deduplicated.event_at,
        {{ reporting_date('deduplicated.event_at') }} as event_date,
        deduplicated.received_at,
        deduplicated.anonymous_id,
        deduplicated.user_id,
        deduplicated.page_url,
        deduplicated.referrer_url,
        deduplicated.utm_source,
        deduplicated.utm_medium,
        deduplicated.utm_campaign,
        deduplicated.utm_term,
        deduplicated.utm_content,
        deduplicated.utm_id,
        deduplicated.click_id_type,
        deduplicated.click_id,
        deduplicated.order_id,
        deduplicated.revenue,
        deduplicated.currency
    from deduplicated
    left join identity_map
        on deduplicated.anonymous_id = identity_map.anonymous_id

)

select * from final
