{#
    dbt's `where` test config, plus one placeholder resolved when the test runs (dbt documents
    overriding get_where_subquery for this: a `where` from YAML cannot call macros itself):

        where: "_validated_at = __latest__"

    becomes `_validated_at = (select max(_validated_at) from <the tested model>)`: the test checks
    the rows of the latest batch only (every row after a full build, one run's rows after an
    incremental one). Used on the 10M-row incremental tables, whose relationships would otherwise
    be re-checked over the whole history every day. `--vars '{test_whole_tables: true}'` resolves
    the placeholder to every row (see tests/generic/unique_incremental.sql for why and when).
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set placeholder = modules.re.search('([A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*__latest__', where) -%}
        {%- if placeholder -%}
            {%- set where = where[:placeholder.start()] ~ latest_batch(placeholder.group(1), relation) ~ where[placeholder.end():] -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The rows of `relation`'s latest batch: those holding the greatest `column` (_ingested_at,
    _validated_at). Every row with `--vars '{test_whole_tables: true}'`. Shared by the `where`
    placeholder above and the unique_incremental test. -#}
{% macro latest_batch(column, relation) -%}
    {%- if var('test_whole_tables', false) -%}
        1 = 1
    {%- else -%}
        {{ column }} = (select max({{ column }}) from {{ relation }})
    {%- endif -%}
{%- endmacro %}
