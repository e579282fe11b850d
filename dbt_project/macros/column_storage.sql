{#
    Columns stored uncompressed (DuckDB): a model lists its random ids in its config's
    `meta.uncompressed_columns` (event ids, hashed person and touchpoint keys, anonymous ids),
    and its table is created with those columns `USING COMPRESSION uncompressed`.

    DuckDB compresses every string column it writes with DICT_FSST, which first tries a
    dictionary and then a symbol table. Random ids defeat both, and trying is what writing
    them costs most: at 10M events, writing the event ids alone took 3.7 s (0.8 s
    uncompressed), and all of int_events_identified 6.6 s (3.9-4.2 s with its three
    random ids uncompressed); scans of them are no slower (a scan reads them without
    decoding). The price is disk: at 10M events the warehouse takes 3.7 GB instead of
    2.1 GB (DECISIONLOG, 2026-12-08).

    Incremental models keep the setting: their rows are inserted into the table created
    here, and warehouse.compact rewrites a table from its own DDL, which keeps it.
    Temporary tables, other engines and models without the config take the adapter's
    own create_table_as. The DDL written here has column types only: a model whose
    enforced contract declares constraints cannot list uncompressed columns (an error
    says so, rather than the constraints being dropped).
#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- set uncompressed = (config.get('meta') or {}).get('uncompressed_columns') or [] -%}
    {%- if temporary or language != 'sql' or not uncompressed or partitioned_by or sorted_by -%}
        {{ return(dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by, sorted_by)) }}
    {%- endif -%}
    {%- if config.get('contract').enforced -%}
        {{ get_assert_columns_equivalent(compiled_code) }}
        {%- set constraints = (model.get('constraints') or []) | list -%}
        {%- for column in (model.get('columns') or {}).values() -%}
            {%- do constraints.extend(column.get('constraints') or []) -%}
        {%- endfor -%}
        {%- if constraints -%}
            {{ exceptions.raise_compiler_error(
                'model ' ~ model.name ~ ': uncompressed_columns cannot be combined with the '
                ~ 'constraints of its enforced contract (the table is created without them); '
                ~ 'remove one or the other'
            ) }}
        {%- endif -%}
    {%- endif -%}
    {%- set columns = query_column_types(compiled_code) -%}
    {%- set names = columns | map(attribute=0) | list -%}
    {%- for name in uncompressed if name not in names -%}
        {{ exceptions.raise_compiler_error(
            'model ' ~ model.name ~ ': uncompressed_columns names ' ~ name
            ~ ', which the model does not select (it selects: ' ~ names | join(', ') ~ ')'
        ) }}
    {%- endfor -%}
    {%- set sql_header = config.get('sql_header', none) -%}

    {{ sql_header if sql_header is not none }}

    create table {{ relation }} (
        {%- for name, data_type in columns %}
        {{ adapter.quote(name) }} {{ data_type }}
        {%- if name in uncompressed %} using compression uncompressed{% endif %}
        {{- ',' if not loop.last }}
        {%- endfor %}
    );

    insert into {{ relation }}
    select * from (
        {{ compiled_code }}
    ) as model_subq;
{%- endmacro %}


{#- The (name, type) of each column a query returns, in order, from DuckDB's DESCRIBE
    (binds the query, runs nothing). -#}
{% macro query_column_types(compiled_code) -%}
    {%- set described = run_query('describe (\n' ~ compiled_code ~ '\n)') -%}
    {%- set columns = [] -%}
    {%- for row in described.rows -%}
        {%- do columns.append((row[0], row[1])) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
