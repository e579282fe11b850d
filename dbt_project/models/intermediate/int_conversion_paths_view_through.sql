{#-
    Conversion paths with view-through touches: the same rules as int_conversion_paths
    (macros/conversion_paths.sql) over the click touchpoints and the view touches of
    int_view_touches together, labelled by touch_type ('view' for an impression). Read
    only by the attribution models tagged view_through.

    With the option attribution.view_through off there are no view touches, and the
    paths are int_conversion_paths: then this is a view of it, not a second copy of
    every path (a full copy took 1.2 s per build at 10M events).
-#}
{{ config(materialized='table' if var('view_through') else 'view') }}
{#- its parents whichever the option, so the graph and the unit test see the same model -#}
-- depends_on: {{ ref('int_conversions') }}, {{ ref('int_touchpoints') }}
-- depends_on: {{ ref('int_view_touches') }}, {{ ref('int_conversion_paths') }}

{%- if var('view_through') %}

{{ conversion_paths([ref('int_touchpoints'), ref('int_view_touches')]) }}

{%- else %}

select * from {{ ref('int_conversion_paths') }}

{%- endif %}
