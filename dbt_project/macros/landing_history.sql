{#
    The raw history of one or more landing entities (seed job wf-customer-overview-raw-data).

    The seed merges each landing into customer_overview_raw with
        onClause: old.cust_id = new.cust_id AND old.modified_at = new.modified_at
        whenClause: NOT MATCHED THEN INSERT *
    but also says saveMode: overwrite, which would drop the history the merge keeps (D10).
    Decision: append-only history. Every landed version is kept; a version whose
    (key, version column) is already in the history is not inserted again, so re-landing a file or
    landing the same version in another file adds nothing. When two files land different content
    for the same version, the first landed (earliest dt, then file name) wins.

    Rows without a key or version (malformed) are kept too, identified by a hash of their whole
    content, so that they reach the quarantine with a reason instead of vanishing.

    Incremental runs read only files whose (path, version) has not been ingested: the landing
    rewrites a date's part files in place when it re-lands a date, which changes their ETag.
#}
{% macro landing_history(entities, key_columns, version_column=none) -%}
{%- set columns = source_columns(entities[0]) -%}
{%- set loaded = [] -%}
{%- if execute and is_incremental() -%}
    {%- set res = run_query("select distinct _source_file || '|' || _source_file_version from " ~ this) -%}
    {%- set loaded = res.columns[0].values() | list -%}
{%- endif -%}
{%- set batches = [] -%}
{%- for entity in entities -%}
    {%- set files = landed_files(entity) -%}
    {%- if files is none -%}
        {%- do batches.append((entity, none)) -%}
    {%- else -%}
        {%- set new_files = [] -%}
        {%- for f in files if (f.path ~ '|' ~ f.version) not in loaded -%}
            {%- do new_files.append(f) -%}
        {%- endfor -%}
        {%- if new_files -%}
            {%- do batches.append((entity, new_files)) -%}
        {%- endif -%}
    {%- endif -%}
{%- endfor -%}
{%- set identity = key_columns + ([version_column] if version_column else []) -%}

with

landed as (
    {%- for entity, files in batches %}
    select
        landed_{{ loop.index }}.*,
        '{{ entity }}' as _landing_entity
    from ({{ read_landing(entity, files, columns) }}) as landed_{{ loop.index }}
    {%- if files is none and is_incremental() %}
    where not exists (
        select 1 from {{ this }} as ingested
        where ingested._source_file = landed_{{ loop.index }}._source_file
          and ingested._source_file_version = landed_{{ loop.index }}._source_file_version
    )
    {%- endif %}
    {{ "union all" if not loop.last }}
    {%- else %}
    {#- nothing new landed: an empty, typed batch keeps the model buildable #}
    select
        {%- for column in columns %}
        cast(null as varchar) as {{ adapter.quote(column) }},
        {%- endfor %}
        cast(null as varchar) as _source_file,
        cast(null as varchar) as _source_file_version,
        cast(null as varchar) as _landed_date,
        cast(null as varchar) as _landing_entity
    where 1 = 0
    {%- endfor %}
),

identified as (
    select
        *,
        case
            when {% for c in identity %}{{ adapter.quote(c) }} is not null{{ " and " if not loop.last }}{% endfor %}
                then {{ identity_expression(identity) }}
            else '#' || {{ dbt.hash(identity_expression(columns)) }}
        end as _record_id
    from landed
),

first_landing as (
    select
        *,
        row_number() over (
            partition by _record_id
            order by _landed_date, _source_file
        ) as _landing_rank
    from identified
),

final as (
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        _record_id,
        _landing_entity,
        _source_file,
        _source_file_version,
        cast(_landed_date as date) as _landed_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as _ingested_at,
        '{{ invocation_id }}' as _ingestion_run_id
    from first_landing
    where _landing_rank = 1
    {%- if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as history
          where history._record_id = first_landing._record_id
      )
    {%- endif %}
)

select * from final
{%- endmacro %}

{# key1|key2|... with nulls spelt as an empty string (text columns). #}
{% macro identity_expression(columns) -%}
    {%- set parts = [] -%}
    {%- for c in columns -%}
        {%- do parts.append("coalesce(" ~ adapter.quote(c) ~ ", '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{# The landing contract's column names of a source table, in file order (from _landing__sources.yml). #}
{% macro source_columns(table_name) -%}
    {%- set columns = [] -%}
    {%- if not execute -%}{{ return(['_parse_placeholder']) }}{%- endif -%}
    {%- for node in graph.sources.values() if node.source_name == 'landing' and node.name == table_name -%}
        {%- for name in node.columns -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
