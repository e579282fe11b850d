{{ config(
    meta={'uncompressed_columns': ['touchpoint_id', 'event_id', 'person_key']},
    **replace_people_rows('event_id'),
) }}
{#-
    Touchpoints: one per landing with campaign signal (any UTM parameter or a click id)
    and one per session start (a touch-capable event after more than
    var('session_timeout_minutes') of the person's inactivity, or their first), per
    person after identity stitching (int_touch_events), with the source, medium,
    channel and ad ties of its touch signature (int_touch_decisions).
    touchpoint_id = hash of the event id. The event's own fields are one join away by
    event_id: its ids in int_events_identified, its click id in int_touch_events, its
    landing URL in the lake (stg_lake__events, the copy int_events_identified names).

    Impression events (var('view_through_events')) are left out: they are view touches,
    int_view_touches, used only by the models that ask for them.

    Incremental (DuckDB): a nightly build joins again the touches of the people whose
    events changed (int_changed_people) and the touches of signatures whose decisions
    changed (int_touch_decisions.is_changed), and writes the rows that differ from the
    stored ones (replace_people_rows). Spark: a plain table.
-#}
{%- set changed_people = ref('int_changed_people') %}

with

-- Two parts, not one filter with an "or": DuckDB then joined every stored touch with
-- both conditions (1.1 s against 0.45 s at 10M events). The second part is empty on most
-- nights (no decision changed), and its scan stops at once.
touch_events as (

    select touch_events.*
    from {{ ref('int_touch_events') }} as touch_events
    {%- if is_incremental() %}
    where touch_events.person_key in (select person_key from {{ changed_people }})

    union all

    select touch_events.*
    from {{ ref('int_touch_events') }} as touch_events
    inner join {{ ref('int_touch_decisions') }} as changed
        on {{ signature_matches('touch_events', 'changed') }}
    where changed.is_changed
        and not exists (
            select 1
            from {{ changed_people }} as changed_people
            where changed_people.person_key = touch_events.person_key
        )
    {%- endif %}

),

decided as (

    select * from {{ ref('int_touch_decisions') }}

),

-- The one join of the touches (wide, streamed through) with the decisions (small, built).
final as (

    select
        {{ stable_hash('touch_events.event_id') }} as touchpoint_id,
        touch_events.event_id,
        touch_events.person_key,
        touch_events.event_at as touched_at,
        touch_events.event_date as touch_date,
        case
            when touch_events.has_campaign_signal then 'campaign_landing'
            else 'session_start'
        end as touch_type,
        touch_events.is_session_start,
        touch_events.has_campaign_signal,
        decided.source,
        decided.medium,
        decided.campaign,
        touch_events.utm_term as term,
        touch_events.utm_content as content,
        touch_events.utm_id,
        touch_events.click_id_type,
        decided.source_basis,
        touch_events.external_referrer_host as referrer_host,
        decided.channel,
        decided.channel_rule_priority,
        decided.platform,
        decided.campaign_id,
        decided.ad_group_id,
        decided.ad_id,
        decided.campaign_id is not null as is_tied_to_campaign,
        coalesce(decided.tie_method, 'none') as tie_method,
        {{ build_started_at() }} as built_at
    from touch_events
    inner join decided
        on {{ signature_matches('touch_events', 'decided') }}

)

select * from final
