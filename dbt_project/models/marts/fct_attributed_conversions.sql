{{
    config(
        materialized='incremental',
        on_schema_change='fail',
        pre_hook=[
            "{{ delete_disabled_attribution_models() }}",
            "{{ delete_vanished_conversions() }}",
        ],
        meta={'uncompressed_columns': [
            'attribution_key', 'conversion_id', 'person_key', 'touchpoint_id',
        ]},
        **replace_slices_by([fact_slice_column(), 'model'], strategy='replace_fact_slices'),
    )
}}
{#-
    Every conversion x touchpoint of its path x enabled attribution model, with the
    model's credit and the attributed value (value_credit x conversion value). The models
    are found in the dbt graph (macros/attribution_models.sql): any attr_<model> tagged
    'attribution' and listed in var('attribution_models').

    Incremental: path-local models (tag path_local: the rule-based ones) are recomputed
    for the conversions whose paths changed since the last build (the stored rows' path
    columns against the current paths, both ways): new and late conversions, refunds and
    FX restatements, late events, re-keyed conversions, newly tied touches. Models whose
    credits depend on all paths (Markov, Shapley) are recomputed in full, and so is a
    model newly enabled; rows of a model no longer enabled, and of conversions that no
    longer exist, are deleted. Rows are replaced per (conversion, model) on DuckDB, per
    (conversion day, model) on Spark, whose slices are partitions (fact_slice_column).

    The rows of the path-local models are written first and the others after them. Every
    build replaces all of the latter, which then fill whole row groups: deleting them
    drops those row groups, where scattered deletes would have DuckDB's checkpoint
    rewrite the row groups around them. They are deleted by model, not slice by slice
    (strategy replace_fact_slices, macros/attribution_models.sql).

    Its ids and keys are stored uncompressed (meta.uncompressed_columns,
    macros/column_storage.sql): written in model order, a row group holds each of them
    about once, and trying to compress them cost more than writing them.

    Models tagged view_through (option attribution.view_through) are joined to
    int_conversion_paths_view_through, whose view touches are labelled touch_type =
    'view'; every other model sees click paths only.
-#}
{{ attribution_model_refs() }}
{%- set slice = fact_slice_column() %}
{#- what a stored row of a path-local model keeps of its path -#}
{%- set path_columns = [
    'conversion_id', 'conversion_type', 'person_key', 'converted_at', 'conversion_date',
    'conversion_value', 'touchpoint_id', 'touched_at', 'touch_date', 'touch_type',
    'channel', 'platform', 'campaign_id', 'ad_group_id', 'ad_id', 'is_tied_to_campaign',
    'touch_position', 'path_length',
] %}

with

paths as (

    -- click paths for every model; paths with view touches for models tagged view_through
    select
        *,
        false as is_view_through_path
    from {{ ref('int_conversion_paths') }}

    union all

    select
        *,
        true as is_view_through_path
    from {{ ref('int_conversion_paths_view_through') }}
    where exists (
        select 1
        from ({{ attribution_model_names_relation() }}) as enabled_models
        where enabled_models.uses_view_touches
    )

),

path_local_credits as (

    {{ union_attribution_models(path_local=true) }}

),

-- every model whose credits depend on all paths: recomputed in full every build
data_driven_credits as (

    {{ union_attribution_models(path_local=false) }}

),

models as (

    {{ attribution_model_names_relation() }}

),

{%- if is_incremental() %}

built_models as (

    select distinct model from {{ this }}

),

-- The path-local models are always reprocessed for the same days, so one of them per kind
-- of path (clicks only, or with view touches) keeps the paths that all of them were
-- computed from.
path_keepers as (

    select
        models.uses_view_touches,
        min(models.model) as model
    from models
    inner join built_models
        on models.model = built_models.model
    where models.is_path_local
    group by models.uses_view_touches

),

stored_paths as (

    select
        {%- for column in path_columns %}
        stored.{{ column }},
        {%- endfor %}
        path_keepers.uses_view_touches
    from {{ this }} as stored
    inner join path_keepers
        on stored.model = path_keepers.model

),

current_paths as (

    select
        {%- for column in path_columns %}
        paths.{{ column }},
        {%- endfor %}
        paths.is_view_through_path as uses_view_touches
    from paths
    where paths.is_view_through_path in (select uses_view_touches from path_keepers)

),

-- The slices (conversions, or days on Spark) whose stored paths are no longer their
-- conversions' paths: a new or late conversion, a conversion whose value changed (refund,
-- FX restatement), a late event that joined a path, a late login that re-keyed a
-- conversion, a new campaign that tied a touch. Rule-based credits depend on nothing
-- else (a changed rule or setting rebuilds every table), so only these are reprocessed.
-- One pass (a full outer join by path row) rather than two set differences over every
-- column: half the time at 10M events, the same slices.
changed_rows as (

    select
        stored.{{ slice }} as stored_slice,
        current_paths.{{ slice }} as current_slice
    from stored_paths as stored
    full outer join current_paths
        on stored.conversion_id = current_paths.conversion_id
        and coalesce(stored.touchpoint_id, '') = coalesce(current_paths.touchpoint_id, '')
        and stored.uses_view_touches = current_paths.uses_view_touches
    where stored.conversion_id is null
        or current_paths.conversion_id is null
        {%- for column in path_columns if column not in ('conversion_id', 'touchpoint_id') %}
        or not ({{ null_safe_equals('stored.' ~ column, 'current_paths.' ~ column) }})
        {%- endfor %}

),

changed_slices as (

    select stored_slice as {{ slice }}
    from changed_rows
    where stored_slice is not null

    union

    select current_slice as {{ slice }}
    from changed_rows
    where current_slice is not null

),

-- The path-local credits this build writes: a newly enabled model, and the others on the
-- changed slices. Chosen before the join to the paths, so only these rows meet them.
batch_path_local_credits as (

    select credits.*
    from path_local_credits as credits
    where credits.model not in (select model from built_models)
        or credits.conversion_id in (
            select paths.conversion_id
            from paths
            where paths.{{ slice }} in (select {{ slice }} from changed_slices)
        )

),

{%- else %}

batch_path_local_credits as (

    select * from path_local_credits

),

{%- endif %}

-- the path-local rows first, then the data-driven ones (see the header)
joined as (
    {%- for batch in ['batch_path_local_credits', 'data_driven_credits'] %}

    select
        paths.conversion_id,
        paths.conversion_type,
        paths.converted_at,
        paths.conversion_date,
        paths.person_key,
        paths.conversion_value,
        credits.model,
        paths.touchpoint_id,
        paths.touched_at,
        paths.touch_date,
        paths.touch_type,
        paths.channel,
        paths.platform,
        paths.campaign_id,
        paths.ad_group_id,
        paths.ad_id,
        paths.is_tied_to_campaign,
        paths.touch_position,
        paths.path_length,
        credits.credit,
        credits.value_credit,
        credits.value_credit * paths.conversion_value as attributed_value
    from {{ batch }} as credits
    inner join models
        on credits.model = models.model
    inner join paths
        on credits.conversion_id = paths.conversion_id
        and coalesce(credits.touchpoint_id, '') = coalesce(paths.touchpoint_id, '')
        and models.uses_view_touches = paths.is_view_through_path
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['conversion_id', 'touchpoint_id', 'model']) }} as attribution_key,
        conversion_id,
        conversion_type,
        converted_at,
        conversion_date,
        person_key,
        cast(conversion_value as {{ type_double() }}) as conversion_value,
        model,
        touchpoint_id,
        touched_at,
        touch_date,
        channel,
        platform,
        campaign_id,
        ad_group_id,
        ad_id,
        is_tied_to_campaign,
        touch_position,
        path_length,
        touch_type,
        cast(credit as {{ type_double() }}) as credit,
        cast(value_credit as {{ type_double() }}) as value_credit,
        cast(attributed_value as {{ type_double() }}) as attributed_value,
        {{ build_started_at() }} as built_at
    from joined

)

select * from final
