{#
    Incremental processing by ingestion time: raw rows carry _ingested_at (when the raw model
    appended them). A downstream incremental model processes the rows ingested after the latest
    _ingested_at it already holds. The watermark is read once, before the query runs, and inlined
    as a literal, so the scan of the large raw/validated tables can skip old row groups.
#}
{% macro ingested_after_watermark(column='_ingested_at') -%}
    {%- if is_incremental() and execute -%}
        {%- set watermark = run_query("select cast(max(" ~ column ~ ") as varchar) from " ~ this).columns[0].values()[0] -%}
        {%- if watermark is not none -%}
            {{ column }} > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
        {%- else -%}
            1 = 1
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#
    The latest valid version of each `key` (seed: ROW_NUMBER() OVER (PARTITION BY cust_id ORDER BY
    modified_at DESC) ... rn = 1). The seed dedups before it cleanses, so a customer whose latest
    version is invalid disappears from its output; here the cleansing comes first and the product
    serves the latest *valid* version. Ties on modified_at (the same instant landed twice with
    different spellings) are broken by the later landing date, then the later file, then the
    record id, so a rebuild always picks the same row.

    In an incremental model (delete+insert on `key`) only the keys with versions validated since
    the model's latest _validated_at are recomputed, from all their valid versions, so a late
    version older than the served one changes nothing.
#}
{% macro latest_valid_version(relation, key, version_column='modified_at') -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by {{ version_column }} desc, _landed_date desc, _source_file desc, _record_id desc
            ) as _version_rank
        from {{ relation }}
        where is_valid
        {%- if is_incremental() %}
          and {{ key }} in (
              select {{ key }} from {{ relation }}
              where is_valid and {{ ingested_after_watermark('_validated_at') }}
          )
        {%- endif %}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#
    The rows an incremental validation model checks in this run: the staged rows ingested since its
    latest _ingested_at, plus (with `recheck_rejected`) the rows it holds as rejected, re-checked
    because a referential rule may pass now (an account that landed before its customer). Used with
    incremental_strategy delete+insert on _record_id, so a re-checked row replaces its old result.
#}
{% macro rows_to_validate(staged_relation, recheck_rejected=false) -%}
    select * from {{ staged_relation }}
    where {{ ingested_after_watermark() }}
    {%- if recheck_rejected and is_incremental() %}
    {%- set staged = adapter.get_columns_in_relation(staged_relation) | map(attribute='name') | list %}
    union all
    select
        {%- for column in staged %}
        {{ adapter.quote(column) }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }}
    where not is_valid
    {%- endif %}
{%- endmacro %}

{#
    The smallest and largest value of `column` among the rows of `relation` matching `where`, as two
    SQL literals of the column's type (`cast('...' as <type>)`), read once before the query runs.
    A probe of a large table by a small set of keys (not exists, in, a semi-join) gets
    `and column between lo and hi` beside it: a constant range that DuckDB's zone maps skip row
    groups on, where the join alone scans the whole table. `relation` is a relation, or a string
    that can follow `from` (a parenthesised, aliased subquery). Returns none while parsing and when
    the relation does not exist yet (or is a unit test's fixture); the caller then adds no range,
    which changes no result. When no row matches it returns an empty list: the caller then knows
    the set is empty (transaction_dp skips its probe).
#}
{% macro value_range(relation, column, where='1 = 1') -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if relation is not string -%}
        {#- a unit test's input is a fixture CTE, not a relation: no schema to look it up in -#}
        {%- if relation.schema is none or relation.identifier is none or load_relation(relation) is none -%}
            {{ return(none) }}
        {%- endif -%}
    {%- endif -%}
    {%- set query -%}
        select
            cast(min({{ column }}) as varchar) as lo,
            cast(max({{ column }}) as varchar) as hi,
            any_value(typeof({{ column }})) as type_name
        from {{ relation }}
        where {{ where }}
    {%- endset -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- if row[0] is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return([
        'cast(' ~ sql_string(row[0]) ~ ' as ' ~ row[2] ~ ')',
        'cast(' ~ sql_string(row[1]) ~ ' as ' ~ row[2] ~ ')'
    ]) }}
{%- endmacro %}
