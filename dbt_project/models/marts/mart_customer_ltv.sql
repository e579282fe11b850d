{#-
    Customer lifetime value by acquisition cohort: the month of a customer's first
    purchase (first conversion of a value-bearing type) x the channel of that purchase's
    first touch (touch_position 1 of its path, exactly the first_touch model's credit;
    Direct for an empty path).

    value_<N>d: the cohort's purchase value (refunds deducted) within N days of each
    customer's first purchase (days 0 to N-1). Null until every customer of the cohort
    has been observed for N days: the cohort month's last day + N - 1 days must not be
    after the last day of first-party data (the latest event day).
    spend: the channel's spend in the cohort month; cac = spend / customers;
    ltv_to_cac = value of the longest complete window (365, else 90, else 30 days;
    ltv_window_days says which) / spend, which equals value per customer / cac.
-#}
{%- set windows = [30, 90, 365] -%}

with

int_conversions as (

    select
        conversion_id,
        person_key,
        converted_at,
        conversion_date,
        conversion_value
    from {{ ref('int_conversions') }}
    where has_value

),

int_conversion_paths as (

    select
        conversion_id,
        channel
    from {{ ref('int_conversion_paths') }}
    where touch_position = 1

),

int_events_identified as (

    select max(event_date) as last_data_date
    from {{ ref('int_events_identified') }}

),

fct_ad_spend_daily as (

    select
        spend_date,
        channel,
        spend
    from {{ ref('fct_ad_spend_daily') }}

),

first_purchases as (

    select
        person_key,
        conversion_id,
        conversion_date as first_purchase_date
    from int_conversions
    qualify row_number() over (
        partition by person_key
        order by converted_at, conversion_id
    ) = 1

),

customers as (

    select
        first_purchases.person_key,
        first_purchases.first_purchase_date,
        cast({{ dbt.date_trunc('month', 'first_purchases.first_purchase_date') }} as date) as cohort_month,
        coalesce(int_conversion_paths.channel, 'Direct') as first_channel
    from first_purchases
    left join int_conversion_paths
        on first_purchases.conversion_id = int_conversion_paths.conversion_id

),

customer_purchases as (

    select
        customers.person_key,
        customers.cohort_month,
        customers.first_channel,
        int_conversions.conversion_value,
        {{ dbt.datediff('customers.first_purchase_date', 'int_conversions.conversion_date', 'day') }}
            as days_since_first_purchase
    from customers
    inner join int_conversions
        on customers.person_key = int_conversions.person_key

),

cohort_values as (

    select
        cohort_month,
        first_channel,
        count(distinct person_key) as customers,
        sum(conversion_value) as value_to_date
        {%- for n in windows %},
        sum(case when days_since_first_purchase < {{ n }} then conversion_value else 0 end) as value_{{ n }}d_observed
        {%- endfor %}
    from customer_purchases
    group by
        cohort_month,
        first_channel

),

cohort_spend as (

    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as cohort_month,
        channel as first_channel,
        sum(spend) as spend
    from fct_ad_spend_daily
    group by
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date),
        channel

),

cohort_keys as (

    select cohort_month, first_channel from cohort_values
    union
    select cohort_month, first_channel from cohort_spend

),

cohorts as (

    select
        cohort_keys.cohort_month,
        cohort_keys.first_channel,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'cohort_keys.cohort_month')) }} as date)
            as cohort_month_end,
        coalesce(cohort_values.customers, 0) as customers,
        coalesce(cohort_values.value_to_date, 0) as value_to_date,
        {%- for n in windows %}
        coalesce(cohort_values.value_{{ n }}d_observed, 0) as value_{{ n }}d_observed,
        {%- endfor %}
        coalesce(cohort_spend.spend, 0) as spend,
        int_events_identified.last_data_date
    from cohort_keys
    cross join int_events_identified
    left join cohort_values
        on cohort_keys.cohort_month = cohort_values.cohort_month
        and cohort_keys.first_channel = cohort_values.first_channel
    left join cohort_spend
        on cohort_keys.cohort_month = cohort_spend.cohort_month
        and cohort_keys.first_channel = cohort_spend.first_channel

),

windows_closed as (

    select
        cohorts.*
        {%- for n in windows %},
        case
            when cast({{ dbt.dateadd('day', n - 1, 'cohort_month_end') }} as date) <= last_data_date
                then value_{{ n }}d_observed
        end as value_{{ n }}d
        {%- endfor %}
    from cohorts

),

ltv as (

    select
        windows_closed.*,
        case
            when value_365d is not null then 365
            when value_90d is not null then 90
            when value_30d is not null then 30
        end as ltv_window_days,
        coalesce(value_365d, value_90d, value_30d) as ltv_value
    from windows_closed

),

final as (

    select
        cohort_month,
        first_channel,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(value_to_date as {{ type_double() }}) as value_to_date,
        {%- for n in windows %}
        cast(value_{{ n }}d as {{ type_double() }}) as value_{{ n }}d,
        {%- endfor %}
        cast(spend as {{ type_double() }}) as spend,
        {{ safe_divide('spend', 'customers') }} as cac,
        cast(ltv_window_days as integer) as ltv_window_days,
        {{ safe_divide('ltv_value', 'customers') }} as ltv_per_customer,
        case when customers > 0 then {{ safe_divide('ltv_value', 'spend') }} end as ltv_to_cac,
        last_data_date
    from ltv

)

select * from final
