{#-
    First-party events, deduplicated by event_id (defensively: ingestion already does
    within a day's partition, but a late copy can land in another day's), with the person
    they belong to (int_identity_map) and their day in the reporting time zone. An
    event's own user id wins over its anonymous id's link; an event with no id at all is
    its own person (so its conversion still counts, with an empty path).

    Narrow on purpose: the fields only touches need (UTM parameters, click id, page and
    referrer URLs) stay in the lake, with has_campaign_signal here for the sessions, and
    lake_source and lake_date naming the copy they are read from (lake_copy,
    macros/event_fields.sql). Writing them for every event took a third of this model's
    build.

    Built for big event logs: only the ids seen more than once go through the
    latest-delivery-wins ranking (a window over every wide row sorted the whole log), and
    the staging view is read where it is needed rather than through one CTE, which the
    engine would otherwise materialise, every column of every event, to read it twice.

    Incremental (DuckDB): a nightly build recomputes only the events whose row changed
    since the last build (int_event_changes: the delivered events, and the stored events
    whose person a new link changed) and replaces those rows by event_id. The delivered
    ones are read from the lake rows delivered since the last build (delivered_since)
    of those events,
    the others from their stored rows, keyed again: no full read of the lake. Rows
    removed from the lake without a new delivery take a `--full-refresh` (see
    DECISIONLOG).
-#}

{{ config(
    meta={'uncompressed_columns': ['event_id', 'person_key', 'anonymous_id']},
    **replace_rows_by('event_id'),
) }}
{#- read on incremental builds only, but always a dependency: it reads this table first -#}
{%- set changes = ref('int_event_changes') %}
{#- what an event's row takes from its copy in the lake -#}
{%- set event_columns = [
    'event_id', 'event_type', 'event_name', 'event_at', 'received_at', 'anonymous_id',
    'user_id', 'has_campaign_signal', 'order_id', 'revenue', 'currency', 'delivered_at',
    'lake_source', 'lake_date',
] %}
{#- the latest delivery of an event wins (one rule for full and incremental builds) -#}
{%- set latest_copy_only -%}
    qualify row_number() over (
        partition by events.event_id
        order by events.delivered_at desc, events.lake_date desc, events.received_at desc
    ) = 1
{%- endset %}

with

identity_map as (

    select
        anonymous_id,
        user_id as linked_user_id,
        person_key
    from {{ ref('int_identity_map') }}

),

{%- if is_incremental() %}

-- Every copy delivered since the last build of the changed events (not the stored
-- copies read again). Their latest is the latest of all copies: the others were
-- delivered before the bound. Only this delivery's row groups are read.
delivered as (

    select
        events.*,
        {{ campaign_signal('events') }} as has_campaign_signal
    from {{ ref('stg_lake__events') }} as events
    where {{ delivered_since(this) }}
        and events.event_id in (select event_id from {{ changes }})
    {{ latest_copy_only }}

),

deduplicated as (

    select {{ event_columns | join(', ') }}
    from delivered

    union all

    -- the other changed events have no new copy, only a new person: their stored row
    select {{ event_columns | join(', ') }}
    from {{ this }} as stored
    where stored.event_id in (select event_id from {{ changes }})
        and not exists (
            select 1
            from delivered
            where delivered.event_id = stored.event_id
        )

),

{%- else %}

repeated_ids as (

    select event_id
    from {{ ref('stg_lake__events') }}
    group by event_id
    having count(*) > 1

),

deduplicated as (

    -- an outer join, not `not exists`: DuckDB's anti join took 4x as long on wide rows
    select
        events.*,
        {{ campaign_signal('events') }} as has_campaign_signal
    from {{ ref('stg_lake__events') }} as events
    left join repeated_ids
        on events.event_id = repeated_ids.event_id
    where repeated_ids.event_id is null

    union all

    select
        events.*,
        {{ campaign_signal('events') }} as has_campaign_signal
    from {{ ref('stg_lake__events') }} as events
    where events.event_id in (select event_id from repeated_ids)
    {{ latest_copy_only }}

),

{%- endif %}

final as (

    select
        deduplicated.event_id,
        {{ event_person_key('deduplicated', 'identity_map') }} as person_key,
        deduplicated.event_type,
        deduplicated.event_name,
        deduplicated.event_at,
        {{ reporting_date('deduplicated.event_at') }} as event_date,
        deduplicated.received_at,
        deduplicated.anonymous_id,
        deduplicated.user_id,
        deduplicated.has_campaign_signal,
        deduplicated.order_id,
        deduplicated.revenue,
        deduplicated.currency,
        deduplicated.delivered_at,
        deduplicated.lake_source,
        deduplicated.lake_date,
        {{ build_started_at() }} as built_at
    from deduplicated
    left join identity_map
        on deduplicated.anonymous_id = identity_map.anonymous_id

)

select * from final
