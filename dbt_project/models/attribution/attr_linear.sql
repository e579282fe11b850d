{{ config(materialized='view', tags=['path_local']) }}
{#- linear: 1/n for each of the n touches of the path (macros/linear_credits.sql). -#}

{{ linear_credits(ref('int_conversion_paths'), 'linear') }}
