{#
    Where an event's fields live. int_events_identified keeps what every event is read
    for downstream (its person, time, names, ids, order fields) and the lake copy it was
    built from (lake_source, lake_date). The fields only touches need (UTM parameters,
    click id, page and referrer URLs) stay in the lake, where the touch models read them
    for their few events (lake_copy): writing them for every event cost a third of
    int_events_identified's build and was read for one event in three.
#}

{#
    An event's campaign signal: any of utm_source, utm_medium, utm_campaign, utm_id or a
    click id. int_events_identified stores it (has_campaign_signal), so sessions are
    found without reading the parameters.
#}
{% macro campaign_signal(event) -%}
    (
        {{ event }}.utm_source is not null
        or {{ event }}.utm_medium is not null
        or {{ event }}.utm_campaign is not null
        or {{ event }}.utm_id is not null
        or {{ event }}.click_id is not null
    )
{%- endmacro %}

{#
    Join condition from rows of int_events_identified (`event`) to the copy of each in
    stg_lake__events (`lake`) that the row was built from. The lake holds one copy of an
    event id per partition (source, day), so the three columns name exactly one row.
#}
{% macro lake_copy(event, lake) -%}
    {{ lake }}.event_id = {{ event }}.event_id
    and {{ lake }}.lake_source = {{ event }}.lake_source
    and {{ lake }}.lake_date = {{ event }}.lake_date
{%- endmacro %}
