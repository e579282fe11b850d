{#-
    Conversion paths over the click touchpoints (int_touchpoints): one row per conversion
    x touchpoint of its path; the rules (lookback, previous conversion, tie order, empty
    path) are macros/conversion_paths.sql, shared with int_conversion_paths_view_through.
-#}

{{ config(meta={'uncompressed_columns': ['conversion_id', 'touchpoint_id', 'person_key']}) }}
{{ conversion_paths([ref('int_touchpoints')]) }}
