{#-
    The events a nightly build recomputes, with the person each belonged to before it
    (previous_person_key; null for an event seen for the first time):
    - every event id delivered since the last build (delivered_at at or after the latest
      one stored): new events, late copies, restatements;
    - every event of an anonymous id those deliveries carry, since a new identify links
      the id's whole history to its user (int_identity_map), and of an anonymous id a
      delivered copy moved an event away from.
    An event's person depends on nothing else, so no other event changes.

    int_events_identified replaces these rows; int_changed_people finds from them whose
    sessions and touches change. The stored int_events_identified is read here, before
    this build replaces it, by name (previous_build_of). Empty when int_events_identified
    is rebuilt in full (a full refresh, the first build, Spark).
-#}
{%- set events = ref('stg_lake__events') -%}
{%- set stored = previous_build_of('int_events_identified') -%}

{%- if stored %}

with

delivered as (

    select
        event_id,
        anonymous_id
    from {{ events }}
    where delivered_at >= (
        select coalesce(
            max(delivered_at), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
        )
        from {{ stored }}
    )

),

touched_anonymous_ids as (

    select anonymous_id
    from delivered
    where anonymous_id is not null

    union

    select stored.anonymous_id
    from {{ stored }} as stored
    where stored.anonymous_id is not null
        and stored.event_id in (select event_id from delivered)

),

changed_ids as (

    select event_id
    from delivered

    union

    select event_id
    from {{ events }}
    where anonymous_id in (select anonymous_id from touched_anonymous_ids)

),

final as (

    select
        changed_ids.event_id,
        stored.person_key as previous_person_key
    from changed_ids
    left join {{ stored }} as stored
        on changed_ids.event_id = stored.event_id

)

select * from final

{%- else %}

select
    cast(null as {{ dbt.type_string() }}) as event_id,
    cast(null as {{ dbt.type_string() }}) as previous_person_key
from {{ events }}
where 1 = 0

{%- endif %}
