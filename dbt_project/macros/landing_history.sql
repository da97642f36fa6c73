{#
    The raw history of one or more landing entities (seed job wf-customer-overview-raw-data).

    The seed merges each landing into customer_overview_raw with
        onClause: old.cust_id = new.cust_id AND old.modified_at = new.modified_at
        whenClause: NOT MATCHED THEN INSERT *
    but also says saveMode: overwrite, which would drop the history the merge keeps (D10).
    Decision: append-only history, and nothing that lands vanishes:
      * rows are read from the files the landing ledger accepted (landing_inspection), from their
        spool copies, columns by name, each with its position in its file (_source_row);
      * a row whose version (key + version column, _version_id) is not in the history yet is
        inserted;
      * a row identical to one already landed for its version (in the history or earlier in this
        batch: same content in every column) is an exact copy: not inserted, counted per file in
        landing_ledger (exact_duplicates);
      * a row with the same version as an earlier landing but other content is inserted too, with
        _conflicts_with = the file of the first landing; the validation rejects it with rule
        conflicting_version, so it reaches the quarantine naming that file. The first landing stays
        the version's content.
    "Earlier" is: already in the history, then (within one batch) earlier landed date, file, row.
    Rows without a key or version (malformed) are identified by a hash of their whole content, so
    they reach the quarantine with a reason instead of vanishing.

    Which files: accepted parts of `entities` with a logical date in the run's scope (var
    logical_date), whose rows are not in the history and which landing_ledger has not accounted
    yet (read without ref: the ledger is built after this model, from it).

    The key and version column are the declaration's (meta key, version_column of the first entity).
#}
{% macro landing_history(entities) -%}
{%- set columns = contract_columns(entities[0]) | map(attribute='name') | list -%}
{%- set spools = [] -%}
{%- set version_range = none -%}
{%- if execute -%}
    {%- set ledger = adapter.get_relation(database=this.database, schema=this.schema, identifier='landing_ledger') -%}
    {%- set unaccounted -%}
        select inspected.file, inspected.file_version, inspected.sha256, inspected.landed_date
        from {{ ref('landing_inspection') }} as inspected
        where inspected.outcome = 'accepted'
          and inspected.kind = 'part'
          and inspected.entity in ({% for e in entities %}{{ sql_string(e) }}{{ ", " if not loop.last }}{% endfor %})
          and {{ within_run_scope('inspected.landed_date') }}
          {%- if is_incremental() and ledger is not none %}
          and not exists (
              select 1 from {{ ledger }} as accounted
              where accounted.file_id = inspected.file_id
          )
          {%- endif %}
    {%- endset -%}
    {%- if is_incremental() -%}
        {#- the files' rows are in the history only under the files' own dt folders (_landed_date):
            a constant range the history's zone maps skip on, instead of the whole history #}
        {%- set dates = value_range('(' ~ unaccounted ~ ') as files', 'landed_date') -%}
        {%- set pending -%}
            select file, file_version, sha256 from ({{ unaccounted }}) as inspected
            where not exists (
                select 1 from {{ this }} as history
                where history._landed_date between {{ dates[0] }} and {{ dates[1] }}
                  and history._source_file = inspected.file
                  and history._source_file_version = inspected.file_version
            )
        {%- endset -%}
        {%- set pending = pending if dates else unaccounted -%}
    {%- else -%}
        {%- set pending = unaccounted -%}
    {%- endif -%}
    {%- set spools = spool_paths("select file, file_version, sha256 from (" ~ pending ~ ") as pending") -%}
    {%- if spools and is_incremental() -%}
        {#- the batch's smallest and largest version (key columns only; none when a row lacks one:
            its version is a hash, anywhere in the order): the history is looked up within them,
            a constant range its zone maps skip on when the keys follow the landing order
            (transactions: the date is in txn_id); a day of re-sent old versions reads more #}
        {%- set declared = contract_identity(entities[0]) -%}
        {%- set identity = declared.key + ([declared.version_column] if declared.version_column else []) -%}
        {%- set ranged -%}
            select
                cast(min({{ identity_expression(identity) }}) as varchar),
                cast(max({{ identity_expression(identity) }}) as varchar),
                count(*) filter (where {% for c in identity %}{{ adapter.quote(c) }} is null{{ " or " if not loop.last }}{% endfor %})
            from ({{ read_spool(spools, columns) }}) as spooled
        {%- endset -%}
        {%- set bounds = run_query(ranged).rows[0] -%}
        {%- if bounds[2] == 0 and bounds[0] is not none -%}
            {%- set version_range = [bounds[0], bounds[1]] -%}
        {%- endif -%}
    {%- endif -%}
{%- endif -%}
with

batch as (
    {%- if spools %}
    {{ read_spool(spools, columns) }}
    {%- else %}
    {#- nothing new landed: an empty, typed batch keeps the model buildable #}
    select
        {%- for column in columns %}
        cast(null as varchar) as {{ adapter.quote(column) }},
        {%- endfor %}
        cast(null as boolean) as _has_control_characters,
        cast(null as varchar) as _landing_entity,
        cast(null as varchar) as _source_file,
        cast(null as varchar) as _source_file_version,
        cast(null as bigint) as _source_row,
        cast(null as date) as _landed_date
    where 1 = 0
    {%- endif %}
),

identified as (
    select
        *,
        {{ version_id(entities[0]) }} as _version_id
    from batch
),

{%- if is_incremental() %}

history as (
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        _version_id,
        _source_file,
        _source_file_version,
        _source_row,
        _landed_date,
        0 as _batch
    from {{ this }}
    where _version_id in (select _version_id from identified)
    {%- if version_range %}
      and _version_id between {{ sql_string(version_range[0]) }} and {{ sql_string(version_range[1]) }}
    {%- endif %}
),
{%- endif %}

{#- versions landed more than once (in this batch, or in this batch and before): the only rows that
    need comparing, a few in a day's millions #}
repeated as (
    select _version_id from identified group by _version_id having count(*) > 1
    {%- if is_incremental() %}
    union
    select _version_id from history
    {%- endif %}
),

candidates as (
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        _version_id,
        _source_file,
        _source_file_version,
        _source_row,
        _landed_date,
        1 as _batch
    from identified
    where _version_id in (select _version_id from repeated)
    {%- if is_incremental() %}
    union all
    select * from history
    {%- endif %}
),

ordered as (
    select
        *,
        row_number() over (
            partition by _version_id
            order by _batch, _landed_date, _source_file, _source_file_version, _source_row
        ) as _landing_order
    from candidates
),

{#- batch rows identical in every column to an earlier landing of their version #}
exact_copies as (
    select later._source_file, later._source_file_version, later._source_row
    from ordered as later
    inner join ordered as earlier
        on earlier._version_id = later._version_id
       and earlier._landing_order < later._landing_order
       {%- for column in columns %}
       and earlier.{{ adapter.quote(column) }} is not distinct from later.{{ adapter.quote(column) }}
       {%- endfor %}
    where later._batch = 1
    group by later._source_file, later._source_file_version, later._source_row
),

first_landings as (
    select _version_id, _source_file as _first_file
    from ordered
    where _landing_order = 1
),

{#- batch rows with other content than the first landing of their version #}
conflicts as (
    select ordered._source_file, ordered._source_file_version, ordered._source_row, first_landings._first_file
    from ordered
    inner join first_landings
        on first_landings._version_id = ordered._version_id
    where ordered._batch = 1
      and ordered._landing_order > 1
      and not exists (
          select 1 from exact_copies
          where exact_copies._source_file = ordered._source_file
            and exact_copies._source_file_version = ordered._source_file_version
            and exact_copies._source_row = ordered._source_row
      )
),

final as (
    select
        {%- for column in columns %}
        identified.{{ adapter.quote(column) }},
        {%- endfor %}
        case
            when conflicts._first_file is null then identified._version_id
            else identified._version_id || '~' || {{ dbt.hash(dbt.concat(["identified._source_file", "'|'", "identified._source_file_version", "'|'", "cast(identified._source_row as varchar)"])) }}
        end as _record_id,
        identified._version_id,
        conflicts._first_file as _conflicts_with,
        identified._has_control_characters,
        identified._landing_entity,
        identified._source_file,
        identified._source_file_version,
        identified._source_row,
        identified._landed_date,
        cast({{ dbt.current_timestamp() }} as timestamp) as _ingested_at,
        '{{ invocation_id }}' as _ingestion_run_id
    from identified
    left join conflicts
        on conflicts._source_file = identified._source_file
       and conflicts._source_file_version = identified._source_file_version
       and conflicts._source_row = identified._source_row
    where not exists (
        select 1 from exact_copies
        where exact_copies._source_file = identified._source_file
          and exact_copies._source_file_version = identified._source_file_version
          and exact_copies._source_row = identified._source_row
    )
)

select * from final
{%- endmacro %}

{# The landed version of a row of `entity`: key and version column as text joined by `|`, or `#` +
   a hash of the whole row when one of them is empty (a malformed row keeps an identity too). #}
{% macro version_id(entity) -%}
    {%- set declared = contract_identity(entity) -%}
    {%- set identity = declared.key + ([declared.version_column] if declared.version_column else []) -%}
    case
        when {% for c in identity %}{{ adapter.quote(c) }} is not null{{ " and " if not loop.last }}{% endfor %}
            then {{ identity_expression(identity) }}
        else '#' || {{ dbt.hash(identity_expression(source_columns(entity))) }}
    end
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

{# The landing contract's column names of an entity, in file order. #}
{% macro source_columns(table_name) -%}
    {{ return(contract_columns(table_name) | map(attribute='name') | list) }}
{%- endmacro %}
