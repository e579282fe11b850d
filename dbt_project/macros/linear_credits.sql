{#
    The linear rule, once: 1/n for each of the n touches of every conversion in
    `paths` (a relation with conversion_id and touchpoint_id), labelled `model_name`.
    attr_linear applies it to click paths, attr_linear_view_through to paths that may
    hold view touches.
#}
{% macro linear_credits(paths, model_name) -%}
with

path_touches as (

    select
        conversion_id,
        touchpoint_id,
        count(*) over (partition by conversion_id) as touch_count
    from {{ paths }}

),

credited as (

    select
        conversion_id,
        touchpoint_id,
        1.0 / touch_count as credit
    from path_touches

),

final as (

    select
        conversion_id,
        touchpoint_id,
        cast('{{ model_name }}' as {{ dbt.type_string() }}) as model,
        cast(credit as {{ type_double() }}) as credit,
        cast(credit as {{ type_double() }}) as value_credit
    from credited

)

select * from final
{%- endmacro %}
