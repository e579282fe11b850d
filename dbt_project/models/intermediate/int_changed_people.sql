{#-
    The people whose events this build recomputed (int_event_changes): the person each
    changed event belonged to before, and the one it belongs to now. A nightly build
    recomputes their sessions and touches (int_touch_events, int_touchpoints), and first
    deletes their old rows, so a person whose events all moved to another is left with
    none. Empty when those tables are rebuilt in full.
-#}

with

changes as (

    select
        event_id,
        previous_person_key
    from {{ ref('int_event_changes') }}

),

final as (

    select previous_person_key as person_key
    from changes
    where previous_person_key is not null

    union

    select events.person_key
    from {{ ref('int_events_identified') }} as events
    where events.event_id in (select event_id from changes)

)

select * from final
