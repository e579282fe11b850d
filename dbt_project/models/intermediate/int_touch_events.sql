{#-
    The events that can become touches: every landing with campaign signal (any UTM
    parameter or a click id) and every session start (a touch-capable event after more
    than var('session_timeout_minutes') of the person's inactivity, or their first), per
    person after identity stitching, with the hosts int_touchpoints needs. Impression
    events (var('view_through_events')) are left out: they are view touches
    (int_view_touches), never clicks or session starts, even with campaign parameters.

    The event's other fields (its anonymous and user ids, its page URL) stay in
    int_events_identified and the lake, one join away by event_id: copying wide columns
    into every touch table cost more of the build than any query.

    Its own table because it is where the big event log narrows down: sessions are found
    on narrow columns of int_events_identified (its has_campaign_signal), the campaign
    parameters and URLs are read from the lake only for the touches, from the copy each
    event was built from (lake_copy), and int_touchpoints then plans its joins on a table
    whose size the engine knows.

    Incremental (DuckDB): sessions are per person, so a nightly build finds again the
    sessions and touches of the people whose events changed (int_changed_people, their
    keys before and after) and writes the rows that differ from the stored ones
    (replace_people_rows). A touch's parameters and hosts depend on its event's copy
    only: a touch stored already keeps them unless a copy of its event was delivered
    since (int_event_changes.is_delivered), and the lake is read only for the others,
    from the row groups delivered since the oldest of their copies (delivered_since).
    Those people's events span every day: joining all their touches to the lake read
    every row group of it (1.7 s of 3.6 s at 10M events). Spark: a plain table.
-#}
{{ config(
    meta={'uncompressed_columns': ['event_id', 'person_key', 'click_id']},
    **replace_people_rows('event_id'),
) }}
{%- set changed_people = ref('int_changed_people') %}
{%- set event_changes = ref('int_event_changes') %}
{%- set lake_events = ref('stg_lake__events') %}
{#- a touch's fields from its event's lake copy (with the hosts of its URLs) #}
{%- set campaign_fields = [
    'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id',
    'click_id_type', 'click_id',
] %}

with

session_events as (

    select
        event_id,
        person_key,
        event_at,
        event_date,
        has_campaign_signal,
        lake_source,
        lake_date,
        delivered_at,
        lag(event_at) over (
            partition by person_key
            order by event_at, event_id
        ) as previous_event_at
    from {{ ref('int_events_identified') }}
    where coalesce(event_name, '') not in ({{ string_list(var('view_through_events')) }})
        and (
            event_type in ({{ string_list(var('session_event_types')) }})
            or has_campaign_signal
        )
    {%- if is_incremental() %}
        and person_key in (select person_key from {{ changed_people }})
    {%- endif %}

),

touches as (

    select *
    from (
        select
            *,
            (
                previous_event_at is null
                or event_at > {{ dbt.dateadd('minute', var('session_timeout_minutes'), 'previous_event_at') }}
            ) as is_session_start
        from session_events
    ) as flagged
    where has_campaign_signal or is_session_start

),

{%- if is_incremental() %}

-- The stored parameters and hosts of the changed people's touches whose events have no
-- copy delivered since the last build: still those of the copy they were read from.
stored_fields as {{ materialized_cte() }} (

    select
        event_id,
        {%- for field in campaign_fields %}
        {{ field }},
        {%- endfor %}
        external_referrer_host
    from {{ this }} as stored
    where stored.person_key in (select person_key from {{ changed_people }})
        and not exists (
            select 1
            from {{ event_changes }} as changes
            where changes.is_delivered
                and changes.event_id = stored.event_id
        )

),

-- the touches whose fields are read from the lake: delivered copies, and events that
-- were no touch before
lake_touches as {{ materialized_cte() }} (

    select *
    from touches
    where not exists (
        select 1
        from stored_fields
        where stored_fields.event_id = touches.event_id
    )

),

-- the lake's copies delivered since the oldest of theirs (most are the night's delivery)
lake_copies as {{ materialized_cte() }} (

    select
        event_id,
        lake_source,
        lake_date,
        {%- for field in campaign_fields %}
        {{ field }},
        {%- endfor %}
        referrer_url,
        page_url
    from {{ lake_events }}
    where {{ delivered_since('lake_touches', oldest=true) }}

),

{%- endif %}

-- The touches' campaign parameters and URLs, from the lake copy of each event.
hosts as (

    select
        touches.event_id,
        touches.person_key,
        touches.event_at,
        touches.event_date,
        {%- for field in campaign_fields %}
        lake.{{ field }},
        {%- endfor %}
        touches.has_campaign_signal,
        touches.is_session_start,
        {{ url_host('lake.referrer_url') }} as referrer_host,
        {{ url_host('lake.page_url') }} as page_host
    {%- if is_incremental() %}
    from lake_touches as touches
    left join lake_copies as lake
    {%- else %}
    from touches
    left join {{ lake_events }} as lake
    {%- endif %}
        on {{ lake_copy('touches', 'lake') }}

),

read_from_lake as (

    select
        event_id,
        person_key,
        event_at,
        event_date,
        {%- for field in campaign_fields %}
        {{ field }},
        {%- endfor %}
        has_campaign_signal,
        is_session_start,
        case
            when referrer_host is not null
                and referrer_host <> ''
                and (page_host is null or referrer_host <> page_host)
                then referrer_host
        end as external_referrer_host
    from hosts

),

final as (

    select
        *,
        {{ build_started_at() }} as built_at
    from read_from_lake
    {%- if is_incremental() %}

    union all

    select
        touches.event_id,
        touches.person_key,
        touches.event_at,
        touches.event_date,
        {%- for field in campaign_fields %}
        stored.{{ field }},
        {%- endfor %}
        touches.has_campaign_signal,
        touches.is_session_start,
        stored.external_referrer_host,
        {{ build_started_at() }} as built_at
    from touches
    inner join stored_fields as stored
        on touches.event_id = stored.event_id
    {%- endif %}

)

select * from final
