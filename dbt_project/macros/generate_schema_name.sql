{#
    Custom schemas are used as named (staging, intermediate, attribution, seeds) instead
    of dbt's default "<target schema>_<custom>"; models without one (the published marts)
    go to the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
