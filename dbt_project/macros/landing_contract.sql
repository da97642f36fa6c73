{#
    The landing contract as dbt sees it: the source `landing` (models/raw/_landing__sources.yml,
    generated from include/mockgen/schema.py, the one declaration per entity). Every rule derived
    from the declaration (header check, strict casts, allowed values, timestamp windows) reads it
    through these macros, so a new entity or column gets its rules by being declared.
#}

{# A SQL string literal of `value` (quotes doubled): file names and paths never reach SQL raw. #}
{% macro sql_string(value) -%}
    '{{ (value | string).replace("'", "''") }}'
{%- endmacro %}

{# The source node of landing table `entity` (none at parse time). #}
{% macro landing_source(entity) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- for node in graph.sources.values() if node.source_name == 'landing' and node.name == entity -%}
        {{ return(node) }}
    {%- endfor -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error("no landing source table " ~ entity ~ " (models/raw/_landing__sources.yml)") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{# entity -> its contract's column names in file order, for every landing table. #}
{% macro landing_contracts() -%}
    {%- if not execute -%}{{ return({}) }}{%- endif -%}
    {%- set out = {} -%}
    {%- for node in graph.sources.values() if node.source_name == 'landing' -%}
        {%- do out.update({node.name: node.columns.keys() | list}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#
    The contract's columns of `entity`: a list of dicts with name, type (string, date, timestamp,
    int, decimal), staged (the staging name), allowed (list, empty when not enumerated), identifier,
    within_logical_day and precision (decimals).
#}
{% macro contract_columns(entity) -%}
    {%- set node = landing_source(entity) -%}
    {%- set out = [] -%}
    {%- if node is none -%}{{ return(out) }}{%- endif -%}
    {%- for name, column in node.columns.items() -%}
        {%- set meta = column.meta or (column.config or {}).get('meta', {}) -%}
        {%- do out.append({
            'name': name,
            'type': meta.get('contract_type', 'string'),
            'staged': meta.get('staged_as', name),
            'allowed': meta.get('allowed_values', []),
            'identifier': meta.get('identifier', false),
            'within_logical_day': meta.get('within_logical_day', false),
            'precision': meta.get('precision', 14),
        }) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{# The business key and version column of `entity` (meta.key, meta.version_column). #}
{% macro contract_identity(entity) -%}
    {%- set node = landing_source(entity) -%}
    {%- if node is none -%}{{ return({'key': [], 'version_column': none}) }}{%- endif -%}
    {%- set meta = node.meta or (node.config or {}).get('meta', {}) -%}
    {{ return({'key': meta.get('key', []), 'version_column': meta.get('version_column')}) }}
{%- endmacro %}

{#
    The run's logical date (`--vars '{logical_date: YYYY-MM-DD}'`, set by the DAG for every dbt
    task), or none: then every landed date is in scope. A run for a date registers and ingests the
    files of that date and of earlier dates not ingested yet, never of a later date.
#}
{% macro logical_date() -%}
    {%- set value = var('logical_date', none) -%}
    {%- if value in (none, '', 'None') -%}{{ return(none) }}{%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("var logical_date must be YYYY-MM-DD, got " ~ value) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}

{# `column` (a date) is within the run's scope: not after its logical date. #}
{% macro within_run_scope(column) -%}
    {%- set day = logical_date() -%}
    {%- if day is none -%}
        1 = 1
    {%- else -%}
        {{ column }} <= cast('{{ day }}' as date)
    {%- endif -%}
{%- endmacro %}
