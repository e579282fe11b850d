{#
    Conversion types come from var('conversion_types'):
    {name: {events: [...], kpi: cps|cpl|cpa|cpi, has_value: bool}}.
#}

{% macro conversion_type_names() -%}
    {{ return(var('conversion_types').keys() | list) }}
{%- endmacro %}


{% macro conversion_event_relation() -%}
    {#- One row per (conversion type, event name): conversion_type, event_name, type_order, has_value, kpi. -#}
    {%- set rows = [] -%}
    {%- for name, spec in var('conversion_types').items() -%}
        {%- set type_order = loop.index -%}
        {%- for event_name in spec['events'] -%}
            {%- do rows.append(
                "select cast(" ~ sql_string(name) ~ " as " ~ dbt.type_string() ~ ") as conversion_type, "
                ~ "cast(" ~ sql_string(event_name) ~ " as " ~ dbt.type_string() ~ ") as event_name, "
                ~ type_order ~ " as type_order, "
                ~ ("true" if spec.get('has_value', false) else "false") ~ " as has_value, "
                ~ "cast(" ~ sql_string(spec.get('kpi', 'cpa')) ~ " as " ~ dbt.type_string() ~ ") as kpi"
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ rows | join('\n    union all\n    ') }}
{%- endmacro %}


{% macro string_list(values) -%}
    {#- A SQL list of string literals for `in (...)`; a never-matching literal when empty. -#}
    {%- if values | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- for value in values -%}
            {{ sql_string(value) }}{% if not loop.last %}, {% endif %}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
