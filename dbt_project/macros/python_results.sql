{#
    Loads a table computed in Python (pipelines.warehouse, for engines without dbt Python
    models) under the relation of the dbt model `model_name`, so that ref() finds it:
    `dbt run-operation load_python_result --args '{model_name, columns, rows}'`.
    `columns` is a list of [name, type] (types string, bigint or double: the same names
    on every engine); `rows` a list of rows of values in that order: text for string
    columns, SQL numeric literals (as text) for the others, null as none. The table is
    replaced; rows go in by chunks of `chunk_size` (create, then insert).
#}
{% macro load_python_result(model_name, columns, rows, chunk_size=1000) -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == model_name -%}
            {%- do found.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if found | length != 1 -%}
        {{ exceptions.raise_compiler_error("load_python_result: no model named " ~ model_name) }}
    {%- endif -%}
    {%- set node = found[0] -%}
    {%- set relation = api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias, type='table'
    ) -%}
    {%- do adapter.create_schema(relation) -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {%- if existing is not none -%}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
    {%- if rows | length == 0 -%}
        {%- do run_query(create_table_from_select(relation, _typed_rows_select(columns, none))) -%}
    {%- endif -%}
    {%- for start in range(0, rows | length, chunk_size) -%}
        {%- set select_sql = _typed_rows_select(columns, rows[start:start + chunk_size]) -%}
        {%- if start == 0 -%}
            {%- do run_query(create_table_from_select(relation, select_sql)) -%}
        {%- else -%}
            {%- do run_query('insert into ' ~ relation ~ ' ' ~ select_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do adapter.commit() if adapter.type() == 'duckdb' -%}
    {{ log('load_python_result: ' ~ relation ~ ' <- ' ~ (rows | length) ~ ' rows', info=true) }}
{%- endmacro %}


{# select of the rows as typed columns (no rows: a typed empty select). #}
{% macro _typed_rows_select(columns, rows) -%}
    {%- set names = columns | map(attribute=0) | list -%}
    {%- if rows is none -%}
        select
        {%- for column in columns %}
            cast(null as {{ column[1] }}) as {{ column[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
        where 1 = 0
    {%- else -%}
        select
        {%- for column in columns %}
            cast({{ column[0] }} as {{ column[1] }}) as {{ column[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
        from (
            values
            {%- for row in rows %}
            ({% for value in row -%}
                {%- if value is none -%}null
                {%- elif columns[loop.index0][1] == 'string' -%}{{ sql_string(value) }}
                {%- else -%}{{ value }}
                {%- endif -%}{{ ', ' if not loop.last }}
            {%- endfor %}){{ ',' if not loop.last }}
            {%- endfor %}
        ) as loaded ({{ names | join(', ') }})
    {%- endif -%}
{%- endmacro %}


{# create table <relation> as <select>, in the engine's default table format. #}
{% macro create_table_from_select(relation, select_sql) -%}
    {{ return(adapter.dispatch('create_table_from_select', 'attribution')(relation, select_sql)) }}
{%- endmacro %}

{% macro default__create_table_from_select(relation, select_sql) -%}
    create table {{ relation }} as {{ select_sql }}
{%- endmacro %}

{% macro spark__create_table_from_select(relation, select_sql) -%}
    create table {{ relation }} using parquet as {{ select_sql }}
{%- endmacro %}
