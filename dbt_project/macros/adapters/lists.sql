{#
    Engine-specific SQL isolated behind adapter dispatch, so the models stay portable between the
    default DuckDB target and the documented Trino target (profiles.yml). DuckDB's and Trino's
    array functions differ in name only.
#}

{# A list of the names of the rules that failed. `rules` is a list of (name, condition) pairs;
   a rule fails when its condition is false or null, as a condition in the seed's WHERE clause. #}
{% macro failed_rules(rules) -%}
    {{ return(adapter.dispatch('failed_rules', 'fsdp')(rules)) }}
{%- endmacro %}

{#- Every row evaluates the plain AND of the conditions; only a failing row (a few in a thousand)
    builds the list of names: building a list for every row made the validation of 10M
    transactions ~5x slower on DuckDB. -#}
{% macro default__failed_rules(rules) -%}
    case
        when {% for name, condition in rules %}coalesce(({{ condition }}), false){{ " and " if not loop.last }}{% endfor %}
            then cast(array[] as array(varchar))
        else filter(array[
            {%- for name, condition in rules %}
            case when coalesce(({{ condition }}), false) then null else '{{ name }}' end{{ "," if not loop.last }}
            {%- endfor %}
        ], r -> r is not null)
    end
{%- endmacro %}

{#- DuckDB: one list per rule (empty, or the rule's name) flattened into one, rather than
    list_filter with a lambda: the same list, and SQL that the catalog's lineage parser (sqlglot,
    OpenMetadata's dbt ingestion) reads. It could not parse DuckDB's lambda syntax and fell back,
    for each of the ten staging and validation models, to a parser 100x slower (about 6 s a model). -#}
{% macro duckdb__failed_rules(rules) -%}
    case
        when {% for name, condition in rules %}coalesce(({{ condition }}), false){{ " and " if not loop.last }}{% endfor %}
            then cast([] as varchar[])
        else flatten([
            {%- for name, condition in rules %}
            case when coalesce(({{ condition }}), false) then cast([] as varchar[]) else ['{{ name }}'] end{{ "," if not loop.last }}
            {%- endfor %}
        ])
    end
{%- endmacro %}

{# `type_errors` (a list column) followed by the names of the failed `rules`. #}
{% macro with_failed_rules(type_errors, rules) -%}
    case
        when {{ list_length(type_errors) }} = 0 then {{ failed_rules(rules) }}
        else {{ concat_lists(type_errors, failed_rules(rules)) }}
    end
{%- endmacro %}

{% macro concat_lists(a, b) -%}
    {{ return(adapter.dispatch('concat_lists', 'fsdp')(a, b)) }}
{%- endmacro %}
{% macro default__concat_lists(a, b) %}concat({{ a }}, {{ b }}){% endmacro %}
{% macro duckdb__concat_lists(a, b) %}list_concat({{ a }}, {{ b }}){% endmacro %}

{% macro list_length(a) -%}
    {{ return(adapter.dispatch('list_length', 'fsdp')(a)) }}
{%- endmacro %}
{% macro default__list_length(a) %}cardinality({{ a }}){% endmacro %}
{% macro duckdb__list_length(a) %}len({{ a }}){% endmacro %}

{# Regular-expression search with the seed's REGEXP_like semantics (a match anywhere; anchor with ^ and $). #}
{% macro regexp_like(value, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'fsdp')(value, pattern)) }}
{%- endmacro %}
{% macro default__regexp_like(value, pattern) %}regexp_like({{ value }}, '{{ pattern }}'){% endmacro %}
{% macro duckdb__regexp_like(value, pattern) %}regexp_matches({{ value }}, '{{ pattern }}'){% endmacro %}

{# Cast or null when the text does not convert (DuckDB and Trino both have try_cast; dbt-duckdb's
   dbt.safe_cast is a plain cast that fails the whole build on one malformed value). #}
{% macro try_cast_to(value, type) -%}
    {{ return(adapter.dispatch('try_cast_to', 'fsdp')(value, type)) }}
{%- endmacro %}
{% macro default__try_cast_to(value, type) %}try_cast({{ value }} as {{ type }}){% endmacro %}
