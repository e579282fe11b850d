{#-
    One rate per currency and day to the reporting currency: units of the reporting
    currency for one unit of `currency`. Rates in the lake are "units of base for one unit
    of currency"; ECB rows (base EUR) give cross rates through the reporting currency's
    own EUR rate of the same day; rows whose base is the reporting currency are used as
    they are and win over derived ones. Days without a publication (weekends, holidays)
    take the latest rate of the previous var('fx_max_fill_days') days; beyond that the
    currency has no rate that day (and spend or value in it fails a data test).
-#}
{%- set reporting = var('reporting_currency') -%}

with

fx_rates as (

    select
        rate_date,
        base_currency,
        currency,
        rate,
        delivered_at
    from {{ ref('stg_lake__fx_rates') }}
    where rate > 0

),

ad_delivery as (

    select spend_date from {{ ref('stg_lake__ad_delivery') }}

),

affiliate_transactions as (

    select transaction_date from {{ ref('stg_lake__affiliate_transactions') }}

),

app_installs as (

    select install_at from {{ ref('stg_lake__app_installs') }}

),

events as (

    -- the events' reporting days, already computed once per event
    select event_date from {{ ref('int_events_identified') }}

),

latest_rates as (

    -- a restated file for the same day and pair: the latest delivery wins
    select *
    from fx_rates
    qualify row_number() over (
        partition by rate_date, base_currency, currency
        order by delivered_at desc
    ) = 1

),

direct_rates as (

    select
        rate_date,
        currency,
        rate as rate_to_reporting,
        base_currency as derived_from,
        1 as derivation_rank
    from latest_rates
    where base_currency = '{{ reporting }}'
        and currency <> '{{ reporting }}'

),

reporting_in_base as (

    -- units of the base currency for one unit of the reporting currency
    select
        rate_date,
        base_currency,
        rate as reporting_rate
    from latest_rates
    where currency = '{{ reporting }}'
        and base_currency <> '{{ reporting }}'

),

cross_rates as (

    select
        latest_rates.rate_date,
        latest_rates.currency,
        latest_rates.rate / reporting_in_base.reporting_rate as rate_to_reporting,
        latest_rates.base_currency as derived_from,
        2 as derivation_rank
    from latest_rates
    inner join reporting_in_base
        on latest_rates.rate_date = reporting_in_base.rate_date
        and latest_rates.base_currency = reporting_in_base.base_currency
    where latest_rates.currency <> '{{ reporting }}'

    union all

    -- the base currency itself (EUR for ECB files)
    select
        rate_date,
        base_currency as currency,
        1.0 / reporting_rate as rate_to_reporting,
        base_currency as derived_from,
        2 as derivation_rank
    from reporting_in_base

),

published_rates as (

    select *
    from (
        select * from direct_rates
        union all
        select * from cross_rates
    ) as candidates
    qualify row_number() over (
        partition by rate_date, currency
        order by derivation_rank, derived_from
    ) = 1

),

days as (

    select rate_date as rate_day from published_rates
    union
    select spend_date from ad_delivery
    union
    select transaction_date from affiliate_transactions
    union
    select {{ reporting_date('install_at') }} from app_installs
    union
    select event_date from events

),

currencies as (

    select distinct currency from published_rates

),

filled_rates as (

    select
        days.rate_day,
        currencies.currency,
        published_rates.rate_to_reporting,
        published_rates.rate_date as published_date,
        published_rates.derived_from
    from days
    cross join currencies
    inner join published_rates
        on currencies.currency = published_rates.currency
        and published_rates.rate_date <= days.rate_day
        and published_rates.rate_date >= cast({{ dbt.dateadd('day', -var('fx_max_fill_days'), 'days.rate_day') }} as date)
    where days.rate_day is not null
    qualify row_number() over (
        partition by days.rate_day, currencies.currency
        order by published_rates.rate_date desc
    ) = 1

),

reporting_currency_rates as (

    select
        rate_day,
        cast('{{ reporting }}' as {{ dbt.type_string() }}) as currency,
        1.0 as rate_to_reporting,
        rate_day as published_date,
        cast('{{ reporting }}' as {{ dbt.type_string() }}) as derived_from
    from days
    where rate_day is not null

),

final as (

    select
        rate_day as rate_date,
        currency,
        cast('{{ reporting }}' as {{ dbt.type_string() }}) as reporting_currency,
        cast(rate_to_reporting as {{ type_double() }}) as rate_to_reporting,
        published_date,
        derived_from,
        published_date <> rate_day as is_filled
    from filled_rates

    union all

    select
        rate_day as rate_date,
        currency,
        currency as reporting_currency,
        cast(rate_to_reporting as {{ type_double() }}) as rate_to_reporting,
        published_date,
        derived_from,
        false as is_filled
    from reporting_currency_rates

)

select * from final
