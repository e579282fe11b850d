{#
    How an incremental model replaces the slices it recomputes, per engine. The models
    say which columns key a slice (e.g. the day); the engine decides how:
    - DuckDB (default): `replace_slices` (below): delete the target's rows of every slice
      the new rows cover, then insert the new rows. dbt's `delete+insert` deletes with a
      join of the target and the new rows on the slice columns, which are no unique key
      here: each target row met every new row of its slice (billions of pairs for the
      attributed facts at 10M events) and the nightly build never finished;
    - Spark: `insert_overwrite` of partitions by those columns (dynamic partition
      overwrite; Parquet tables have no DELETE and `merge` needs Delta jars).
    Use as `config(materialized='incremental', **replace_slices_by(['spend_date']))`.
    `strategy` names a DuckDB strategy built on `replace_slices_sql` (the fact table's
    `replace_fact_slices`); Spark overwrites partitions whatever it is.
#}
{% macro replace_slices_by(columns, strategy='replace_slices') -%}
    {{ return(adapter.dispatch('replace_slices_by', 'attribution')(columns, strategy)) }}
{%- endmacro %}

{% macro default__replace_slices_by(columns, strategy) -%}
    {{ return({'incremental_strategy': strategy, 'unique_key': columns}) }}
{%- endmacro %}

{#- The `replace_slices` incremental strategy: the distinct slices of the new rows are
    deleted from the target (a semi-join), then the new rows are inserted. -#}
{% macro get_incremental_replace_slices_sql(arg_dict) -%}
    {{ replace_slices_sql(arg_dict) }}
{%- endmacro %}

{#- The statements of `replace_slices`. `whole_rows`, a predicate on rows, marks the new
    rows that replace every stored row matching it (rows the model recomputes in full on
    every build): those are deleted by the predicate, and only the other slices go
    through the semi-join. -#}
{% macro replace_slices_sql(arg_dict, whole_rows=none) -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if whole_rows %}
    delete from {{ arg_dict['target_relation'] }}
    where {{ whole_rows }};
    {%- endif %}

    delete from {{ arg_dict['target_relation'] }} as target_rows
    where exists (
        select 1
        from (
            select distinct {{ keys | join(', ') }}
            from {{ arg_dict['temp_relation'] }}
            {%- if whole_rows %}
            where not ({{ whole_rows }})
            {%- endif %}
        ) as slices
        where {% for key in keys -%}
            slices.{{ key }} = target_rows.{{ key }}{% if not loop.last %} and {% endif %}
        {%- endfor %}
    );

    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }}
    from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{% macro spark__replace_slices_by(columns, strategy) -%}
    {{ return({
        'incremental_strategy': 'insert_overwrite',
        'partition_by': columns,
        'file_format': 'parquet',
    }) }}
{%- endmacro %}


{#
    Tables replaced row by row where their rows can have changed: `replace_rows_by(key)`
    keys each row (e.g. the event id); the model recomputes only the rows it must on an
    incremental run (is_incremental()). DuckDB: an incremental model replacing those rows
    with `replace_slices` (each key is a slice of one row), or with `merge=true`, when
    most recomputed rows come out as stored, with `merge_rows` (below), which writes only
    the rows that differ. Spark: a plain table rebuilt every run (Parquet tables have no
    DELETE; a per-row insert_overwrite would rewrite every partition).
#}
{% macro replace_rows_by(columns, merge=false) -%}
    {{ return(adapter.dispatch('replace_rows_by', 'attribution')(columns, merge)) }}
{%- endmacro %}

{% macro default__replace_rows_by(columns, merge) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'merge_rows' if merge else 'replace_slices',
        'unique_key': columns,
        'on_schema_change': 'sync_all_columns',
    }) }}
{%- endmacro %}

{% macro spark__replace_rows_by(columns, merge) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}


{#
    Another model's table as the last build left it, for a model that must read it
    before this build replaces it (by name: a ref would make the two models a cycle).
    none when this build rebuilds that model in full: a full refresh, its first build,
    or an engine whose row-replaced models are plain tables (Spark).
#}
{% macro previous_build_of(model_name) -%}
    {{ return(adapter.dispatch('previous_build_of', 'attribution')(model_name)) }}
{%- endmacro %}

{% macro default__previous_build_of(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier=model_name
    )) }}
{%- endmacro %}

{% macro spark__previous_build_of(model_name) -%}
    {{ return(none) }}
{%- endmacro %}


{#
    Tables of per-person rows (sessions, touches) replaced person by person:
    `replace_people_rows(key)`, `key` naming each row (the event id). A nightly build
    recomputes the rows of the people whose events changed (int_changed_people: their
    keys before and after, so a person whose events all moved to another loses their
    rows), and a model may recompute other rows too (the touches of a signature whose
    channel changed). DuckDB: an incremental model with the `merge_people_rows`
    strategy (below, with `merge_rows`), which writes only the rows that differ; Spark: a plain table,
    rebuilt every run.
#}
{% macro replace_people_rows(key) -%}
    {{ return(adapter.dispatch('replace_people_rows', 'attribution')(key)) }}
{%- endmacro %}

{% macro default__replace_people_rows(key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'merge_people_rows',
        'unique_key': key,
        'on_schema_change': 'sync_all_columns',
    }) }}
{%- endmacro %}

{% macro spark__replace_people_rows(key) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}

{#-
    The `merge_rows` and `merge_people_rows` strategies, for tables keyed by one column
    whose recomputed rows mostly come out of the night exactly as they were stored (98%
    of a changed person's touches at 10M events: a new session is appended to a history
    that stays; two thirds of the identity rows a delivery touches). Instead of deleting
    and inserting all of them:
    1. delete the stored rows keyed like a new row (`merge_people_rows`: and every
       stored row of the changed people, int_changed_people) that no new row repeats
       exactly (every column but built_at, nulls equal);
    2. insert the new rows whose key is no longer stored (a stored row with that key is
       now an exact copy of it).
    The table ends as a delete and insert of those rows would leave it; the rows kept
    keep the built_at of the build that wrote them. Deleting few rows also leaves the
    file few deleted rows to compact (pipelines.warehouse.compact).
-#}
{% macro get_incremental_merge_rows_sql(arg_dict) -%}
    {{ merge_rows_sql(arg_dict) }}
{%- endmacro %}

{% macro get_incremental_merge_people_rows_sql(arg_dict) -%}
    {{ merge_rows_sql(arg_dict, ref('int_changed_people')) }}
{%- endmacro %}

{% macro merge_rows_sql(arg_dict, changed_people=none) -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new = arg_dict['temp_relation'] -%}
    {%- set names = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set columns = get_quoted_csv(names) -%}
    delete from {{ target }} as target_rows
    where (
        {%- if changed_people %}
        target_rows.person_key in (select person_key from {{ changed_people }})
        or
        {%- endif %}
        target_rows.{{ key }} in (select {{ key }} from {{ new }})
    )
        and not exists (
            select 1
            from {{ new }} as new_rows
            where new_rows.{{ key }} = target_rows.{{ key }}
            {%- for name in names if name not in (key, 'built_at') %}
                and new_rows.{{ adapter.quote(name) }} is not distinct from target_rows.{{ adapter.quote(name) }}
            {%- endfor %}
        );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ new }} as new_rows
    where not exists (
        select 1
        from {{ target }} as target_rows
        where target_rows.{{ key }} = new_rows.{{ key }}
    )
{%- endmacro %}



{#
    The lake rows delivered since a stored table's latest delivery: a filter on a lake
    staging view's `lake_delivered_at` (the lake's own column), `relation.column` being
    the table's delivered_at (naive UTC). On the lake's own column the engine pushes the
    bound into the Parquet reader, which skips the row groups of older deliveries by
    their statistics (a partition holds its files' rows in delivery order); on the
    converted delivered_at it reads every row group. At 10M events a nightly build then
    reads the new day's row groups, not the whole lake. Rows of that latest delivery are
    read again (`>=`): a build may have run while it was still being ingested
    (int_event_changes leaves out those of its copies stored already). An empty table
    bounds nothing.

    `oldest=true` bounds by the relation's oldest delivery instead (the copies a set of
    rows was built from, and those delivered after them); an empty relation then keeps
    no row.

    Use it in a query that reads the lake alone (a CTE of its own, materialized_cte):
    joined to another table in the same query, DuckDB applied the bound after the join,
    having read every row group.
#}
{% macro delivered_since(relation, column='delivered_at', oldest=false) -%}
    {{ return(adapter.dispatch('delivered_since', 'attribution')(relation, column, oldest)) }}
{%- endmacro %}

{% macro default__delivered_since(relation, column, oldest) -%}
    lake_delivered_at >= (
        select make_timestamptz(epoch_us(
            {%- if oldest %}
            min({{ column }})
            {%- else %}
            coalesce(max({{ column }}), cast('1900-01-01 00:00:00' as timestamp))
            {%- endif %}
        ))
        from {{ relation }}
    )
{%- endmacro %}

{% macro spark__delivered_since(relation, column, oldest) -%}
    lake_delivered_at >= (
        {%- if oldest %}
        select min({{ column }})
        {%- else %}
        select coalesce(max({{ column }}), cast('1900-01-01 00:00:00' as timestamp))
        {%- endif %}
        from {{ relation }}
    )
{%- endmacro %}


{#
    When the build that writes a row started (dbt's run_started_at, UTC): the `built_at`
    column of the tables whose rows a nightly build replaces one by one. Their unique
    tests check the keys of the rows the latest build wrote (unique_in_latest_build).
#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
