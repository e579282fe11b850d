{#-
    Identity stitching: one row per anonymous id. An anonymous id seen on any event that
    also carries a user id (identify, login, or any other) belongs to that user, for its
    events before and after the link. When one anonymous id carries several user ids (a
    shared device), the first link in time wins (ties: the smallest event id), so the
    choice is deterministic; `linked_user_ids` counts them.
    person_key = hash of 'user:' || user_id when known, else of 'anonymous:' || anonymous_id
    (the prefixes keep a user id and an anonymous id with the same text apart).

    Incremental (DuckDB): an anonymous id's row depends on its own events only, so a
    nightly build recomputes the ids of the rows delivered since the last build
    (delivered_at at or after the latest one stored, last_delivered_at: delivered_since)
    and replaces their rows by anonymous_id. Spark: a plain table.
-#}
{{ config(**replace_rows_by('anonymous_id')) }}

with

events as (

    select
        event_id,
        event_at,
        anonymous_id,
        user_id,
        delivered_at
    from {{ ref('stg_lake__events') }}
    where anonymous_id is not null
    {%- if is_incremental() %}
        and anonymous_id in (
            select anonymous_id
            from {{ ref('stg_lake__events') }}
            where {{ delivered_since(this, 'last_delivered_at') }}
        )
    {%- endif %}

),

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

final as (

    select
        anonymous_ids.anonymous_id,
        links.user_id,
        case
            when links.user_id is not null
                then {{ stable_hash(dbt.concat(["'user:'", 'links.user_id'])) }}
            else {{ stable_hash(dbt.concat(["'anonymous:'", 'anonymous_ids.anonymous_id'])) }}
        end as person_key,
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

)

select * from final
