{#
    The landing contract as the dbt macros read it: macros/generated/landing_declaration.sql,
    generated from include/mockgen/schema.py (the one declaration per entity; the source `landing`
    in models/raw/_landing__sources.yml is generated from it too, for docs, lineage and freshness).
    Every rule derived from the declaration (header check, strict casts, allowed values, timestamp
    windows, identity) reads it through these macros, so a new entity or column gets its rules by
    being declared.
#}

{# A SQL string literal of `value` (quotes doubled): file names and paths never reach SQL raw. #}
{% macro sql_string(value) -%}
    '{{ (value | string).split("'") | join("''") }}'
{%- endmacro %}

{# A policy constant of the declaration (type_formats, decimal_places, logical_day_tolerance_minutes, control_characters). #}
{% macro landing_meta(key) -%}
    {{ return(landing_declaration()[key]) }}
{%- endmacro %}

{# The declaration of landing entity `entity`; stops the build for an undeclared entity. #}
{% macro landing_entity(entity) -%}
    {%- set entities = landing_declaration()['entities'] -%}
    {%- if entity not in entities -%}
        {{ exceptions.raise_compiler_error("landing entity " ~ entity ~ " is not declared in include/mockgen/schema.py") }}
    {%- endif -%}
    {{ return(entities[entity]) }}
{%- endmacro %}

{# entity -> its contract's column names in file order, for every landing entity. #}
{% macro landing_contracts() -%}
    {%- set out = {} -%}
    {%- for name, entity in landing_declaration()['entities'].items() -%}
        {%- do out.update({name: entity['columns'] | map(attribute='name') | list}) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#
    The contract's columns of `entity`: a list of dicts with name, type (string, date, timestamp,
    int, decimal), staged (the staging name), allowed (list, empty when not enumerated), identifier,
    within_logical_day and precision (decimals).
#}
{% macro contract_columns(entity) -%}
    {%- set out = [] -%}
    {%- for column in landing_entity(entity)['columns'] -%}
        {%- do out.append({
            'name': column['name'],
            'type': column['contract_type'],
            'staged': column.get('staged_as', column['name']),
            'allowed': column.get('allowed_values', []),
            'identifier': column.get('identifier', false),
            'within_logical_day': column.get('within_logical_day', false),
            'precision': column.get('precision', 14),
        }) -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{# The business key and version column of `entity`. #}
{% macro contract_identity(entity) -%}
    {%- set declared = landing_entity(entity) -%}
    {{ return({'key': declared['key'], 'version_column': declared['version_column']}) }}
{%- endmacro %}

{#
    The run's logical date, or none: then every landed date is in scope. A run for a date registers
    and ingests the files of that date and of earlier dates not ingested yet, never of a later date.
    The DAG sets it in the environment (FSDP_LOGICAL_DATE), read only when executing: a value read
    while parsing would make dbt re-parse what uses it, and `--vars` would change dbt's vars
    checksum, so that no dbt task could reuse the pipeline's one `dbt parse` (partial_parse.msgpack).
    `--vars '{logical_date: YYYY-MM-DD}'` still wins (interactive runs, tests).
#}
{% macro logical_date() -%}
    {%- set value = var('logical_date', none) -%}
    {%- if value in (none, '', 'None') and execute -%}{%- set value = env_var('FSDP_LOGICAL_DATE', '') -%}{%- endif -%}
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
