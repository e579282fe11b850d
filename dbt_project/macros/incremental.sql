{#
    How an incremental model replaces the slices it recomputes, per engine. The models
    say which columns key a slice (e.g. the day); the engine decides how:
    - DuckDB (default): `delete+insert` on those columns as the unique key;
    - Spark: `insert_overwrite` of partitions by those columns (dynamic partition
      overwrite; Parquet tables have no DELETE and `merge` needs Delta jars).
    Use as `config(materialized='incremental', **replace_slices_by(['spend_date']))`.
#}
{% macro replace_slices_by(columns) -%}
    {{ return(adapter.dispatch('replace_slices_by', 'attribution')(columns)) }}
{%- endmacro %}

{% macro default__replace_slices_by(columns) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': columns}) }}
{%- endmacro %}

{% macro spark__replace_slices_by(columns) -%}
    {{ return({
        'incremental_strategy': 'insert_overwrite',
        'partition_by': columns,
        'file_format': 'parquet',
    }) }}
{%- endmacro %}
