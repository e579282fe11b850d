{#
    The Parquet lake as the engine sees it. DuckDB reads the files directly (the lake
    sources' meta.external_location, dbt-duckdb); Spark reads them through external tables
    named like the sources (lake.<table>), created over lake/raw/<table>/ on first use and
    refreshed at the start of every run (on-run-start), so partitions ingested since the
    last run are seen: `alter table ... recover partitions` registers them in the
    metastore, `refresh table` drops cached file listings.
#}
{% macro register_lake_tables() -%}
    {{ return(adapter.dispatch('register_lake_tables', 'attribution')()) }}
{%- endmacro %}

{% macro default__register_lake_tables() -%}
{%- endmacro %}

{% macro spark__register_lake_tables() -%}
    {%- if execute -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() if node.source_name == 'lake' -%}
            {%- if node.schema not in schemas -%}
                {%- do run_query('create database if not exists ' ~ node.schema) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
            {%- set table = node.schema ~ '.' ~ node.identifier -%}
            {%- do run_query(
                'create table if not exists ' ~ table ~ ' using parquet location '
                ~ sql_string(var('lake_dir') ~ '/' ~ node.identifier)
            ) -%}
            {%- do run_query('alter table ' ~ table ~ ' recover partitions') -%}
            {%- do run_query('refresh table ' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
