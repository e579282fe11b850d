{#
    The person an event belongs to, from its own ids and its anonymous id's row of
    int_identity_map (`identity_map`: its person_key, and its user id as linked_user_id;
    null when the event has no anonymous id). An event's own user id wins over its
    anonymous id's link; an event with no id at all is its own person.
    int_events_identified keys its events with it, and int_event_changes finds with it
    the stored events whose person a nightly build changes.
#}
{% macro event_person_key(event, identity_map) -%}
    case
        -- the link's key is that user's key: hash only user ids seen without one
        when {{ event }}.user_id is not null
            and {{ event }}.user_id = {{ identity_map }}.linked_user_id
            then {{ identity_map }}.person_key
        when {{ event }}.user_id is not null
            then {{ stable_hash(dbt.concat(["'user:'", event ~ '.user_id'])) }}
        when {{ identity_map }}.person_key is not null
            then {{ identity_map }}.person_key
        else {{ stable_hash(dbt.concat(["'event:'", event ~ '.event_id'])) }}
    end
{%- endmacro %}
