{#-
    Identity stitching: one row per anonymous id. An anonymous id seen on any event that
    also carries a user id (identify, login, or any other) belongs to that user, for its
    events before and after the link. When one anonymous id carries several user ids (a
    shared device), the first link in time wins (ties: the smallest event id), so the
    choice is deterministic; `linked_user_ids` counts them.
    person_key = hash of 'user:' || user_id when known, else of 'anonymous:' || anonymous_id
    (the prefixes keep a user id and an anonymous id with the same text apart).

    Incremental (DuckDB): a nightly build merges the rows delivered since the last build
    (delivered_at at or after the latest one stored, last_delivered_at: delivered_since)
    into the stored rows of their anonymous ids, and writes the merged rows that differ
    from the stored ones (replace_rows_by with merge; two thirds come out as stored).
    Every column but the count of user ids is a minimum, a maximum or the first link, which
    merge with the stored values. Recomputed from all their events in the lake instead:
    the ids whose delivery brings a user id other than the stored link (the count of user
    ids does not merge; new shared devices, a handful a night), and the ids of an event
    delivered again after an earlier copy, which the lake may no longer hold (found in the
    stored int_events_identified, read by name before this build replaces it:
    previous_build_of). The latest stored delivery is read again, which the merge absorbs
    (minima and maxima are idempotent). An id left with no event at all keeps its row
    until a full refresh. Spark: a plain table.
-#}
{{ config(
    meta={'uncompressed_columns': ['anonymous_id', 'person_key']},
    **replace_rows_by('anonymous_id', merge=true),
) }}

with

{%- if is_incremental() %}
{#- the stored int_events_identified, as the last build left it (none on Spark) -#}
{%- set stored_events = previous_build_of('int_events_identified') %}

-- every row delivered since the last build
delivered_rows as (

    select
        event_id,
        event_at,
        anonymous_id,
        user_id,
        delivered_at
    from {{ ref('stg_lake__events') }}
    where {{ delivered_since(this, 'last_delivered_at') }}

),

delivered as (

    select *
    from delivered_rows
    where anonymous_id is not null

),

stored as (

    select *
    from {{ this }}
    where anonymous_id in (select anonymous_id from delivered)

),

{%- if stored_events %}

-- Events delivered again after an earlier copy, with the id of that copy: a later file of
-- a landing day replaces the earlier file's copy in the lake, so a stored row may hold
-- values of a copy that is gone.
recopied as (

    select
        delivered_rows.anonymous_id,
        stored_events.anonymous_id as previous_anonymous_id
    from delivered_rows
    inner join {{ stored_events }} as stored_events
        on delivered_rows.event_id = stored_events.event_id
    where stored_events.delivered_at < delivered_rows.delivered_at

),

{%- endif %}

-- The ids recomputed from all their events in the lake, not merged: those whose delivery
-- links a user id other than their stored link (the count of distinct user ids needs
-- every one seen), and those of a new copy of an event, old and new.
recomputed as (

    select delivered.anonymous_id
    from delivered
    inner join stored
        on delivered.anonymous_id = stored.anonymous_id
    where delivered.user_id <> stored.user_id
    {%- if stored_events %}

    union

    select anonymous_id
    from recopied
    where anonymous_id is not null

    union

    select previous_anonymous_id
    from recopied
    where previous_anonymous_id is not null
    {%- endif %}

),

events as (

    select *
    from delivered
    where anonymous_id not in (select anonymous_id from recomputed)

    union all

    select
        event_id,
        event_at,
        anonymous_id,
        user_id,
        delivered_at
    from {{ ref('stg_lake__events') }}
    where anonymous_id in (select anonymous_id from recomputed)

),

-- the stored rows the new events merge into (not those of recomputed ids)
merged_into as (

    select *
    from stored
    where anonymous_id not in (select anonymous_id from recomputed)

),

{%- else %}

events as (

    select
        event_id,
        event_at,
        anonymous_id,
        user_id,
        delivered_at
    from {{ ref('stg_lake__events') }}
    where anonymous_id is not null

),

{%- endif %}

anonymous_ids as (

    select
        anonymous_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        max(delivered_at) as last_delivered_at
    from events
    group by anonymous_id

),

links as (

    select
        anonymous_id,
        user_id,
        event_at as linked_at
    from events
    where user_id is not null
    qualify row_number() over (
        partition by anonymous_id
        order by event_at, event_id
    ) = 1

),

link_counts as (

    select
        anonymous_id,
        count(distinct user_id) as linked_user_ids
    from events
    where user_id is not null
    group by anonymous_id

),

-- each id's values from the events read
computed as (

    select
        anonymous_ids.anonymous_id,
        links.user_id,
        links.linked_at,
        coalesce(link_counts.linked_user_ids, 0) as linked_user_ids,
        anonymous_ids.first_seen_at,
        anonymous_ids.last_seen_at,
        anonymous_ids.last_delivered_at
    from anonymous_ids
    left join links
        on anonymous_ids.anonymous_id = links.anonymous_id
    left join link_counts
        on anonymous_ids.anonymous_id = link_counts.anonymous_id

),

{%- if is_incremental() %}

-- The new events' values merged with the stored ones. A stored link is never replaced:
-- the new events of these ids carry no other user id, so the link keeps its user and takes
-- the earlier time; the count of user ids changes only for an id linked for the first time.
merged as (

    select
        computed.anonymous_id,
        coalesce(merged_into.user_id, computed.user_id) as user_id,
        case
            when merged_into.linked_at is null then computed.linked_at
            when computed.linked_at is null then merged_into.linked_at
            else least(merged_into.linked_at, computed.linked_at)
        end as linked_at,
        case
            when merged_into.user_id is not null then merged_into.linked_user_ids
            else computed.linked_user_ids
        end as linked_user_ids,
        least(
            computed.first_seen_at,
            coalesce(merged_into.first_seen_at, computed.first_seen_at)
        ) as first_seen_at,
        greatest(
            computed.last_seen_at,
            coalesce(merged_into.last_seen_at, computed.last_seen_at)
        ) as last_seen_at,
        greatest(
            computed.last_delivered_at,
            coalesce(merged_into.last_delivered_at, computed.last_delivered_at)
        ) as last_delivered_at
    from computed
    left join merged_into
        on computed.anonymous_id = merged_into.anonymous_id

),

{%- else %}

merged as (

    select * from computed

),

{%- endif %}

final as (

    select
        anonymous_id,
        user_id,
        case
            when user_id is not null
                then {{ stable_hash(dbt.concat(["'user:'", 'user_id'])) }}
            else {{ stable_hash(dbt.concat(["'anonymous:'", 'anonymous_id'])) }}
        end as person_key,
        linked_at,
        linked_user_ids,
        first_seen_at,
        last_seen_at,
        last_delivered_at,
        {{ build_started_at() }} as built_at
    from merged

)

select * from final
