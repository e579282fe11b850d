{#-
    Conversions of the configured types (var('conversion_types')). conversion_id = the
    order id, else the event id; duplicates of one conversion id keep the earliest event
    (an event name listed under several types counts once, for the first type in the
    settings' order). Value: revenue of value-bearing types in the reporting currency at
    the rate of the conversion's day (a missing currency is taken as the reporting
    currency); refunds and cancellations (var('refund_events')) of the same order reduce
    it when var('refunds_reduce_value') (a refund without an amount refunds it all),
    never below 0. conversion_date is the day in var('reporting_timezone').

    The events table is read by name where it is needed (conversions, refunds), not
    through one CTE: the engine would materialise that CTE, every column of every event,
    to read it twice.
-#}
{%- set reporting = var('reporting_currency') -%}

with

fx_rates as (

    select rate_date, currency, rate_to_reporting from {{ ref('int_fx_rates_daily') }}

),

conversion_events as (

    {{ conversion_event_relation() }}

),

matched as (

    select
        events.*,
        conversion_events.conversion_type,
        conversion_events.type_order,
        conversion_events.has_value,
        conversion_events.kpi,
        coalesce(events.order_id, events.event_id) as conversion_id
    from {{ ref('int_events_identified') }} as events
    inner join conversion_events
        on events.event_name = conversion_events.event_name

),

deduplicated as (

    select *
    from matched
    qualify row_number() over (
        partition by conversion_id
        order by type_order, event_at, event_id
    ) = 1

),

valued as (

    select
        deduplicated.*,
        coalesce(deduplicated.currency, '{{ reporting }}') as value_currency,
        fx_rates.rate_to_reporting as fx_rate,
        case
            when deduplicated.has_value
                then coalesce(deduplicated.revenue, 0) * fx_rates.rate_to_reporting
            else 0
        end as gross_value
    from deduplicated
    left join fx_rates
        on coalesce(deduplicated.currency, '{{ reporting }}') = fx_rates.currency
        and deduplicated.event_date = fx_rates.rate_date

),

refund_events as (

    select
        events.order_id,
        events.event_at,
        case
            when events.revenue is null then null
            else abs(events.revenue) * fx_rates.rate_to_reporting
        end as refund_amount,
        events.revenue is null as is_full_refund
    from {{ ref('int_events_identified') }} as events
    left join fx_rates
        on coalesce(events.currency, '{{ reporting }}') = fx_rates.currency
        and events.event_date = fx_rates.rate_date
    where events.event_name in ({{ string_list(var('refund_events')) }})
        and events.order_id is not null

),

refunds as (

    select
        order_id,
        sum(coalesce(refund_amount, 0)) as refund_amount,
        max(case when is_full_refund then 1 else 0 end) = 1 as has_full_refund,
        max(event_at) as last_refund_at
    from refund_events
    group by order_id

),

final as (

    select
        valued.conversion_id,
        valued.conversion_type,
        valued.kpi,
        valued.event_id,
        valued.event_name,
        valued.order_id,
        valued.person_key,
        valued.anonymous_id,
        valued.user_id,
        valued.event_at as converted_at,
        valued.event_date as conversion_date,
        valued.has_value,
        valued.value_currency,
        case when valued.has_value then valued.revenue end as revenue,
        valued.fx_rate,
        cast(valued.gross_value as {{ type_double() }}) as gross_value,
        cast(
            case
                when not valued.has_value or refunds.order_id is null then 0
                when refunds.has_full_refund then valued.gross_value
                else least(refunds.refund_amount, valued.gross_value)
            end
            as {{ type_double() }}
        ) as refunded_value,
        cast(
            case
                when not valued.has_value then 0
                when refunds.order_id is null or not {{ 'true' if var('refunds_reduce_value') else 'false' }} then valued.gross_value
                when refunds.has_full_refund then 0
                else greatest(valued.gross_value - refunds.refund_amount, 0)
            end
            as {{ type_double() }}
        ) as conversion_value,
        refunds.order_id is not null as is_refunded,
        refunds.last_refund_at
    from valued
    left join refunds
        on valued.order_id = refunds.order_id

)

select * from final
