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
        {%- set latest = '1 = 1' if var('test_whole_tables', false) else '\\1 = (select max(\\1) from ' ~ relation ~ ')' -%}
        {%- set where = modules.re.sub('([A-Za-z_][A-Za-z0-9_]*)\\s*=\\s*__latest__', latest, where) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
