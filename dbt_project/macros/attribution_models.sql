{#
    The attribution-model registry is the dbt graph itself.

    An attribution model is any model tagged `attribution` named `attr_<model>` that
    returns `conversion_id, touchpoint_id, model, credit, value_credit`. It takes part in
    the fact table when <model> is listed in var('attribution_models') (the settings'
    attribution.models). Adding a model = adding one file (and listing its name in the
    settings); fct_attributed_conversions and the marts pick it up with no other edit.
    A model tagged `view_through` reads int_conversion_paths_view_through (click and
    view touches) instead of int_conversion_paths; the fact table joins it to those paths.

    dbt resolves dependencies while parsing, before the graph exists, so the references
    are declared from the var at parse time; at execution the graph decides which of
    them are real attribution models. A listed name without a model file stops the
    parse with dbt's "depends on a node named 'attr_<model>' which was not found".
#}

{% macro enabled_attribution_models() -%}
    {#- Names (without the attr_ prefix) of the enabled attribution models, in var order. -#}
    {%- set wanted = var('attribution_models') -%}
    {%- if not execute -%}
        {{ return(wanted | list) }}
    {%- endif -%}
    {%- set found = {} -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.package_name == project_name
            and 'attribution' in node.tags
            and node.name.startswith('attr_') -%}
            {%- do found.update({node.name[5:]: node}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set names = [] -%}
    {%- for name in wanted if name in found -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro is_path_local_model(name) -%}
    {#-
        True when the model's credits depend only on the conversion's own path (tag
        `path_local`): such rows may be recomputed for the lookback window only. Other
        models (data-driven ones) are recomputed in full on every incremental run.
    -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == 'attr_' ~ name -%}
            {{ return('path_local' in node.tags) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}


{% macro uses_view_touches_model(name) -%}
    {#-
        True when the model asks for view-through touches (tag `view_through`): it reads
        int_conversion_paths_view_through, and its fact rows join those paths.
    -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == 'attr_' ~ name -%}
            {{ return('view_through' in node.tags) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}


{% macro attribution_model_refs() -%}
    {#- Declares the dependencies; renders one SQL comment line per model. -#}
    {%- for name in var('attribution_models') %}
    -- depends_on: {{ ref('attr_' ~ name) }}
    {%- endfor %}
{%- endmacro %}


{% macro union_attribution_models(path_local=none) -%}
    {#-
        `union all` of every enabled attribution model, with the contract's columns.
        `path_local`: true for the path-local models only, false for the others (an
        empty relation when there are none of that kind); none for all of them.
    -#}
    {%- set names = enabled_attribution_models() -%}
    {%- if names | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "No attribution model is enabled: var('attribution_models') = "
            ~ var('attribution_models') ~ " matches no model tagged 'attribution' named attr_<model>; "
            ~ "list existing models under attribution.models in the settings."
        ) }}
    {%- endif -%}
    {%- if path_local is not none -%}
        {%- set kept = [] -%}
        {%- for name in names if is_path_local_model(name) == path_local -%}
            {%- do kept.append(name) -%}
        {%- endfor -%}
        {%- set names = kept -%}
    {%- endif -%}
    {%- if names | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as conversion_id,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        cast(null as {{ dbt.type_string() }}) as model,
        cast(null as {{ type_double() }}) as credit,
        cast(null as {{ type_double() }}) as value_credit
    where 1 = 0
    {%- endif %}
    {%- for name in names %}
    select
        conversion_id,
        touchpoint_id,
        cast(model as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(value_credit as {{ type_double() }}) as value_credit
    from {{ ref('attr_' ~ name) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{% macro attribution_model_names_relation() -%}
    {#- One row per enabled model: `model`, `model_order`, `is_path_local`, `uses_view_touches`. -#}
    {%- for name in enabled_attribution_models() %}
    select
        cast({{ sql_string(name) }} as {{ dbt.type_string() }}) as model,
        {{ loop.index }} as model_order,
        {{ 'true' if is_path_local_model(name) else 'false' }} as is_path_local,
        {{ 'true' if uses_view_touches_model(name) else 'false' }} as uses_view_touches
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{#- The fact table's DuckDB strategy, `replace_fact_slices`: `replace_slices`, whose new
    rows of the enabled data-driven models (recomputed in full on every build) replace
    all of those models' stored rows, deleted by model; only the path-local slices go
    through the semi-join. At 10M events the 1.7M data-driven slices made the semi-join
    0.5 s, against 0.2 s for both deletes. -#}
{% macro get_incremental_replace_fact_slices_sql(arg_dict) -%}
    {%- set names = [] -%}
    {%- for name in enabled_attribution_models() if not is_path_local_model(name) -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ replace_slices_sql(arg_dict, 'model in (' ~ string_list(names) ~ ')' if names else none) }}
{%- endmacro %}


{% macro delete_disabled_attribution_models() -%}
    {{ return(adapter.dispatch('delete_disabled_attribution_models', 'attribution')()) }}
{%- endmacro %}

{% macro spark__delete_disabled_attribution_models() -%}
    {#- Spark (Parquet, partitioned by conversion_date and model): drop the partitions of
        models no longer enabled; Parquet tables take no DELETE. -#}
    {%- set dropped = [] -%}
    {%- if execute and is_incremental() -%}
        {%- set enabled = enabled_attribution_models() -%}
        {%- for row in run_query('select distinct model from ' ~ this) -%}
            {%- if row[0] not in enabled -%}
                {%- do dropped.append('partition (model = ' ~ sql_string(row[0]) ~ ')') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if dropped -%}
        alter table {{ this }} drop if exists {{ dropped | join(', ') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_disabled_attribution_models() -%}
    {#- Incremental pre-hook: drop the rows of models no longer enabled. -#}
    {%- if execute and is_incremental() -%}
        {%- set names = enabled_attribution_models() -%}
        delete from {{ this }}
        where model not in ({{ string_list(names) }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#
    How the fact table's incremental rows are sliced, per engine: a build replaces the
    stored rows of every (slice, model) it recomputes.
    - DuckDB (default): by conversion. A night changes the paths of a few thousand
      conversions, spread over many days (a late login re-keys a person's old orders, a
      late event joins an old path): at 10M events, 8.5k conversions on 19 days, whose
      days hold a third of the rule-based rows. Only those conversions are rewritten.
    - Spark: by conversion day, the table's partitions (insert_overwrite).
#}
{% macro fact_slice_column() -%}
    {{ return(adapter.dispatch('fact_slice_column', 'attribution')()) }}
{%- endmacro %}

{% macro default__fact_slice_column() -%}
    {{ return('conversion_id') }}
{%- endmacro %}

{% macro spark__fact_slice_column() -%}
    {{ return('conversion_date') }}
{%- endmacro %}


{#- Incremental pre-hook of the fact table: drop the rows of conversions that no longer
    exist (a corrected event that no longer converts): no recomputed slice covers them
    when slices are conversions. On Spark a slice is a day, rewritten whole. -#}
{% macro delete_vanished_conversions() -%}
    {{ return(adapter.dispatch('delete_vanished_conversions', 'attribution')()) }}
{%- endmacro %}

{% macro default__delete_vanished_conversions() -%}
    {%- if execute and is_incremental() -%}
        delete from {{ this }}
        where conversion_id not in (
            select conversion_id from {{ ref('int_conversion_paths') }}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro spark__delete_vanished_conversions() -%}
    select 1
{%- endmacro %}
