{#
    Strict conversion of landed text to the contract's types: a value the type cannot hold exactly
    is rejected with a named rule, never rounded, truncated or re-read. The accepted text of each
    type is the declaration's (include/mockgen/schema.py TYPE_FORMATS, in the landing source's meta):

      int        ^[+-]?[0-9]+$                  700.5, 7e2, 0x1F, 1_000 are rejected (try_cast reads them)
      decimal    ^[+-]?[0-9]+([.][0-9]+)?$      at most DECIMAL_PLACES significant decimals (100.120 is
                                               100.12; 100.125 is rejected: <column>_max_2_decimals)
      date       YYYY-MM-DD, a real date        2026-1-5 is rejected
      timestamp  YYYY-MM-DD HH:MM:SS, `T` allowed, up to 6 fraction digits, optional offset
                 Z / +HH:MM / -HHMM             converted exactly to UTC (+05:30 is 5.5 h earlier);
                                               24:00:00, a date alone, 7 fraction digits, offsets
                                               beyond +-14:00 are rejected

    Speed: the canonical text of a type (what the cast prints back, e.g. `52941.59`) is accepted
    without a regular expression, which only runs for other spellings (a few per million rows).
#}

{% macro contract_sql_type(column) -%}
    {%- set places = landing_meta('decimal_places') -%}
    {%- if column.type == 'int' -%}{{ dbt.type_int() }}
    {%- elif column.type == 'decimal' -%}decimal({{ column.precision }}, {{ places }})
    {%- elif column.type == 'date' -%}date
    {%- elif column.type == 'timestamp' -%}{{ dbt.type_timestamp() }}
    {%- else -%}{{ dbt.type_string() }}
    {%- endif -%}
{%- endmacro %}

{# The canonical spelling test: the text is what the cast prints back. #}
{% macro _canonical(text, sql_type) -%}
    cast({{ try_cast_to(text, sql_type) }} as {{ dbt.type_string() }}) = {{ text }}
{%- endmacro %}

{# `text` (a text column) spells a value of the contract type of `column`. #}
{% macro strict_format_ok(column, text) -%}
    {%- set sql_type = contract_sql_type(column) -%}
    {%- set pattern = landing_meta('type_formats')[column.type] -%}
    {%- if column.type == 'decimal' -%}
        ({{ _canonical(text, sql_type) }} or ({{ regexp_like(text, pattern) }} and {{ try_cast_to(text, sql_type) }} is not null))
    {%- elif column.type == 'timestamp' -%}
        ({{ _canonical(text, sql_type) }} or ({{ regexp_like(text, pattern) }} and {{ utc_from_text(text) }} is not null))
    {%- else -%}
        ({{ _canonical(text, sql_type) }} or ({{ regexp_like(text, pattern) }} and {{ try_cast_to(text, sql_type) }} is not null))
    {%- endif -%}
{%- endmacro %}

{# Decimals only: a non-zero digit after the allowed places. #}
{% macro too_many_decimals(text) -%}
    {%- set places = landing_meta('decimal_places') -%}
    {{ regexp_like(text, '[.][0-9]{' ~ places ~ '}[0-9]*[1-9]') }}
{%- endmacro %}

{# A timestamp text with an optional offset as the UTC instant it names (null when the offset is out of range). #}
{% macro utc_from_text(text) -%}
    {%- set offset = "regexp_extract(" ~ text ~ ", '([+-])([0-9]{2}):?([0-9]{2})$', 0)" -%}
    {%- set local = try_cast_to("regexp_replace(" ~ text ~ ", '(Z|[+-][0-9]{2}:?[0-9]{2})$', '')", dbt.type_timestamp()) -%}
    {%- set minutes -%}
        (case when regexp_extract({{ text }}, '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' then -1 else 1 end)
        * (cast(regexp_extract({{ text }}, '[+-]([0-9]{2}):?[0-9]{2}$', 1) as integer) * 60
           + cast(regexp_extract({{ text }}, '[+-][0-9]{2}:?([0-9]{2})$', 1) as integer))
    {%- endset -%}
    case
        when {{ offset }} = '' then {{ local }}
        when cast(regexp_extract({{ text }}, '[+-][0-9]{2}:?([0-9]{2})$', 1) as integer) >= 60 then null
        when abs({{ minutes }}) > 14 * 60 then null
        else {{ dbt.dateadd('minute', '-1 * (' ~ minutes ~ ')', local) }}
    end
{%- endmacro %}

{# The typed value of `text` for `column`, null whenever a type rule rejects it. #}
{% macro strict_value(column, text) -%}
    {%- set sql_type = contract_sql_type(column) -%}
    {%- if column.type == 'timestamp' -%}
        case
            when {{ _canonical(text, sql_type) }} then {{ try_cast_to(text, sql_type) }}
            when {{ regexp_like(text, landing_meta('type_formats')['timestamp']) }} then cast({{ utc_from_text(text) }} as {{ sql_type }})
        end
    {%- elif column.type == 'decimal' -%}
        case when {{ strict_format_ok(column, text) }} and not coalesce({{ too_many_decimals(text) }}, false)
            then {{ try_cast_to(text, sql_type) }} end
    {%- else -%}
        case when {{ strict_format_ok(column, text) }} then {{ try_cast_to(text, sql_type) }} end
    {%- endif -%}
{%- endmacro %}

{#
    The type rules of `column` as (name, condition) pairs, for failed_rules(): `<staged>_is_<type>`
    (and `<staged>_max_<places>_decimals` for decimals); `text` is the landed text, `value` the
    strict value.
#}
{% macro type_rules(column, text, value) -%}
    {%- set names = {'int': 'integer', 'decimal': 'decimal', 'date': 'date', 'timestamp': 'timestamp'} -%}
    {%- set rules = [] -%}
    {%- if column.type in names -%}
        {%- if column.type == 'decimal' -%}
            {%- do rules.append((column.staged ~ '_is_decimal', text ~ ' is null or ' ~ strict_format_ok(column, text))) -%}
            {%- do rules.append((column.staged ~ '_max_' ~ landing_meta('decimal_places') ~ '_decimals',
                                 text ~ ' is null or not ' ~ too_many_decimals(text))) -%}
        {%- else -%}
            {%- do rules.append((column.staged ~ '_is_' ~ names[column.type], text ~ ' is null or ' ~ value ~ ' is not null')) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(rules) }}
{%- endmacro %}
