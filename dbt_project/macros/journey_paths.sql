{#
    Raw channel paths of the journeys (int_journeys), one rule for every model that builds
    them (int_path_positions for the converting journeys, int_path_outcomes for the
    others): a touch's step is its channel ('Unassigned' when it has none); a path is the
    steps in touch order (touch_position, then touchpoint_id) joined by ' > '
    (pipelines.attribution.outcomes.PATH_SEPARATOR).
#}
{% macro path_step(channel) -%}
    trim(coalesce({{ channel }}, 'Unassigned'))
{%- endmacro %}

{#- the touch order of a journey's path -#}
{% macro path_order() -%}
    touch_position, touchpoint_id
{%- endmacro %}

{% macro channel_path(step, order_by) -%}
    {{ ordered_string_agg(step, "' > '", order_by) }}
{%- endmacro %}
