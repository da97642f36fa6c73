{#
    The staging of one landing entity, derived from its declaration (contract_columns): one row per
    raw row, columns renamed (the declaration's `rename`), text trimmed and blank as null (identifiers
    kept as landed: a padded id is rejected by its format rule, never merged with another),
    enumerated values in their allowed spelling (standardise), typed columns converted strictly
    (strict_cast.sql). `expressions` replaces the cleaning of a column (by staged name) with an
    expression of the landed columns, e.g. upper-casing a currency code.

    _type_errors names, per row, the rules that staging itself can judge:
      <column>_is_<type> / <column>_max_2_decimals   the text does not spell the contract type exactly
      <column>_no_control_characters                  the value holds a control character (C0, DEL, C1)
    Rows are never dropped here; int_<entity>s_validated adds the business rules.
#}
{% macro stage_landing(raw_model, entity, expressions={}) -%}
{%- set columns = contract_columns(entity) -%}
{%- set control = landing_meta('control_characters') -%}
{%- set rules = [] -%}
{%- for c in columns -%}
    {%- set text = c.staged ~ ('_text' if c.type != 'string' else '') -%}
    {%- for rule in type_rules(c, text, c.staged) -%}{%- do rules.append(rule) -%}{%- endfor -%}
    {%- do rules.append((c.staged ~ '_no_control_characters',
        'not coalesce(_has_control_characters, false) or ' ~ text ~ ' is null or not ' ~ regexp_like(text, control))) -%}
{%- endfor %}

with

source as (
    select * from {{ ref(raw_model) }}
),

renamed as (
    select
        _record_id,
        {%- for c in columns %}
        {%- set target = c.staged ~ ('_text' if c.type != 'string' else '') %}
        {%- if c.staged in expressions %}
        {{ expressions[c.staged] }} as {{ target }},
        {%- elif c.type != 'string' %}
        {{ clean_text(adapter.quote(c.name)) }} as {{ target }},
        {%- elif c.identifier %}
        {{ clean_id(adapter.quote(c.name)) }} as {{ target }},
        {%- elif c.allowed %}
        {{ standardise(c.staged, adapter.quote(c.name)) }} as {{ target }},
        {%- else %}
        {{ clean_text(adapter.quote(c.name)) }} as {{ target }},
        {%- endif %}
        {%- endfor %}
        _has_control_characters,
        _conflicts_with,
        _landing_entity,
        _source_file,
        _source_row,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *
        {%- for c in columns if c.type != 'string' %},
        {{ strict_value(c, c.staged ~ '_text') }} as {{ c.staged }}
        {%- endfor %}
    from renamed
),

final as (
    select
        _record_id,
        {%- for c in columns %}
        {{ c.staged }},
        {%- endfor %}
        {{ failed_rules(rules) }} as _type_errors,
        _conflicts_with,
        _landing_entity,
        _source_file,
        _source_row,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
{%- endmacro %}
