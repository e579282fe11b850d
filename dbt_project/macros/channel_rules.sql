{#
    The channel rule engine (the rules are data: seeds channel_rules and
    source_categories). `input` is a relation or CTE name with the columns `key_column`,
    `source`, `medium`, `campaign` (lower-cased) and `click_id_type`. Renders a select of
    `key_column, channel, channel_rule_priority`: the first matching rule per key, or
    'Unassigned' when none matches.
#}
{% macro classify_channels(input, key_column) -%}
    select
        classified_input.{{ key_column }},
        coalesce(first_rule.channel, 'Unassigned') as channel,
        first_rule.priority as channel_rule_priority
    from {{ input }} as classified_input
    left join (
        select
            rule_input.{{ key_column }},
            rules.channel,
            rules.priority
        from {{ input }} as rule_input
        left join {{ ref('source_categories') }} as categories
            on rule_input.source = categories.source
        inner join {{ ref('channel_rules') }} as rules
            on (rules.source_regex is null
                or {{ regex_match("coalesce(rule_input.source, '')", 'rules.source_regex') }})
            and (rules.medium_regex is null
                or {{ regex_match("coalesce(rule_input.medium, '')", 'rules.medium_regex') }})
            and (rules.campaign_regex is null
                or {{ regex_match("coalesce(rule_input.campaign, '')", 'rules.campaign_regex') }})
            and (rules.click_id_type_regex is null
                or {{ regex_match("coalesce(rule_input.click_id_type, '')", 'rules.click_id_type_regex') }})
            and (rules.source_category is null
                or rules.source_category = categories.source_category)
        qualify row_number() over (
            partition by rule_input.{{ key_column }}
            order by rules.priority, rules.channel
        ) = 1
    ) as first_rule
        on classified_input.{{ key_column }} = first_rule.{{ key_column }}
{%- endmacro %}
