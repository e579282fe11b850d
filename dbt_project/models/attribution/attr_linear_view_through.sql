{{ config(materialized='view', tags=['path_local', 'view_through']) }}
{#-
    linear_view_through: 1/n for each of the n touches of the path, click and view-through
    touches alike (the same rule as linear, macros/linear_credits.sql). Tag view_through:
    it reads int_conversion_paths_view_through, where the option attribution.view_through
    adds first-party impressions (touch_type 'view'); with the option off it equals
    linear. Not enabled by default: list linear_view_through under attribution.models.
-#}

{{ linear_credits(ref('int_conversion_paths_view_through'), 'linear_view_through') }}
