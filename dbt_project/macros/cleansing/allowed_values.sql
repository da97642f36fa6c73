{#
    The allowed values of an enumerated column (by its staged name), from the landing contract's
    declaration (include/mockgen/schema.py `allowed`, in the landing source's column meta): staging
    maps each value to the spelling listed there regardless of case and surrounding blanks (plus
    the aliases below), and the validation rule <column>_allowed (contract_rules) accepts exactly
    these values. Lists follow the seed's cleansing SQL; the other entities' follow the contract.
#}
{% macro allowed_values(column) -%}
    {%- for entity in landing_declaration()['entities'] -%}
        {%- for c in contract_columns(entity) if c.staged == column and c.allowed -%}
            {{ return(c.allowed) }}
        {%- endfor -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no allowed values are declared for column " ~ column
        ~ " (include/mockgen/schema.py, then python -m include.mockgen.schema)") }}
{%- endmacro %}

{#
    Spellings that staging maps to an allowed value (lower-cased key).
    D2: the seed generator writes 'Semi', its filter and dashboards say 'Semi-Urban'.
    D3: the generator writes 'I Prefer not to say', the filter expects 'I prefer not to say'
    (no alias needed: the case-insensitive match maps it to the allowed spelling).
#}
{% macro value_aliases(column) -%}
    {%- set aliases = {
        'cust_segment': {'semi': 'Semi-Urban', 'semi urban': 'Semi-Urban', 'semiurban': 'Semi-Urban'},
    } -%}
    {{ return(aliases.get(column, {})) }}
{%- endmacro %}

{# `value` is one of the allowed values of `column` (null is not). #}
{% macro is_allowed(column, value=none) -%}
    {{ value or column }} in ({% for v in allowed_values(column) %}{{ sql_string(v) }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
