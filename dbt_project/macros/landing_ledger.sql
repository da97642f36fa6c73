{#
    The raw history models fed by the landing, from the graph: every model tagged raw that depends
    on a landing source. [{'name', 'relation', 'entities'}]. A new entity's raw model is picked up
    by the ledger from its `-- depends_on: source('landing', ...)` line alone.
#}
{% macro landing_raw_models() -%}
    {%- set out = [] -%}
    {%- if not execute -%}{{ return(out) }}{%- endif -%}
    {%- for node in graph.nodes.values() | sort(attribute='name')
            if node.resource_type == 'model' and 'raw' in node.tags -%}
        {%- set entities = [] -%}
        {%- for parent in node.depends_on.nodes if parent.startswith('source.') and parent.split('.')[2] == 'landing' -%}
            {%- do entities.append(parent.split('.')[-1]) -%}
        {%- endfor -%}
        {%- if entities -%}
            {%- do out.append({'name': node.name, 'relation': node.relation_name, 'entities': entities | sort}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#
    The landing ledger (models/landing/landing_ledger.sql): landing_inspection's registrations with
    what became of every row of each accepted part, counted from the raw history itself:
        rows = new_rows + conflicting_rows + exact_duplicates (+ unaccounted_rows, which must be 0)
    new_rows and conflicting_rows are the file's rows in the raw history; an exact duplicate is a
    row of the file not in the history by position (file, version, row) whose identical copy is;
    an unaccounted row is neither (a row lost between the landing and the history). A refused
    file's rows are all refused_rows. Only registrations not accounted yet are (re)computed.
#}
{% macro landing_ledger() -%}
{%- set raws = landing_raw_models() -%}
{%- if execute -%}
    {%- set declared = model.depends_on.nodes -%}
    {%- for raw in raws if ('model.' ~ project_name ~ '.' ~ raw.name) not in declared -%}
        {{ exceptions.raise_compiler_error("landing_ledger must run after " ~ raw.name ~ ": add `-- depends_on: {{ ref('"
            ~ raw.name ~ "') }}` to models/landing/landing_ledger.sql") }}
    {%- endfor -%}
{%- endif -%}
{%- set fresh -%}
    select * from {{ ref('landing_inspection') }} as inspected
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as ledger
        where ledger.file_id = inspected.file_id
          and ledger.registered_at = inspected.registered_at
    )
    {%- endif %}
{%- endset -%}
{%- set leftovers = [] -%}
{%- if execute -%}
    {%- for raw in raws -%}
        {%- set short -%}
            select fresh.file, fresh.file_version, fresh.sha256
            from ({{ fresh }}) as fresh
            left join (
                select _source_file, _source_file_version, count(*) as n
                from {{ raw.relation }}
                where _ingested_at >= (select min(registered_at) from ({{ fresh }}) as registered)
                group by _source_file, _source_file_version
            ) as counted
                on counted._source_file = fresh.file
               and counted._source_file_version = fresh.file_version
            where fresh.outcome = 'accepted'
              and fresh.kind = 'part'
              and fresh.entity in ({% for e in raw.entities %}{{ sql_string(e) }}{{ ", " if not loop.last }}{% endfor %})
              and coalesce(counted.n, 0) < fresh.rows
        {%- endset -%}
        {%- set spools = spool_paths(short) -%}
        {%- if spools -%}
            {%- do leftovers.append({'raw': raw, 'spools': spools}) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

with

fresh as (
    {{ fresh }}
),

in_history as (
    {%- for raw in raws %}
    select
        _source_file,
        _source_file_version,
        count(*) as raw_rows,
        count(_conflicts_with) as conflicting_rows
    from {{ raw.relation }} as history
    {#- a file's rows are ingested after it is registered: the filter skips the older history #}
    where history._ingested_at >= (select min(registered_at) from fresh)
      and exists (
        select 1 from fresh
        where fresh.file = history._source_file
          and fresh.file_version = history._source_file_version
    )
    group by _source_file, _source_file_version
    {{ "union all" if not loop.last }}
    {%- else %}
    select cast(null as varchar) as _source_file, cast(null as varchar) as _source_file_version,
           0 as raw_rows, 0 as conflicting_rows
    where 1 = 0
    {%- endfor %}
),

{%- for item in leftovers %}
{%- set columns = contract_columns(item.raw.entities[0]) | map(attribute='name') | list %}

{#- rows of the file that are not in the history by position #}
leftover_{{ loop.index }} as (
    select
        spooled.*,
        {{ version_id(item.raw.entities[0]) }} as _version_id
    from ({{ read_spool(item.spools, columns) }}) as spooled
    where not exists (
        select 1 from {{ item.raw.relation }} as history
        where history._ingested_at >= (select min(registered_at) from fresh)
          and history._source_file = spooled._source_file
          and history._source_file_version = spooled._source_file_version
          and history._source_row = spooled._source_row
    )
),

{#- ... of which an identical copy is in the history: exact duplicates #}
copied_{{ loop.index }} as (
    select distinct leftover._source_file, leftover._source_file_version, leftover._source_row
    from leftover_{{ loop.index }} as leftover
    inner join {{ item.raw.relation }} as history
        on history._version_id = leftover._version_id
       {%- for column in columns %}
       and history.{{ adapter.quote(column) }} is not distinct from leftover.{{ adapter.quote(column) }}
       {%- endfor %}
),

not_in_history_{{ loop.index }} as (
    select
        leftover._source_file,
        leftover._source_file_version,
        count(copied._source_row) as exact_duplicates,
        count(*) - count(copied._source_row) as unaccounted_rows
    from leftover_{{ loop.index }} as leftover
    left join copied_{{ loop.index }} as copied
        on copied._source_file = leftover._source_file
       and copied._source_file_version = leftover._source_file_version
       and copied._source_row = leftover._source_row
    group by leftover._source_file, leftover._source_file_version
),
{%- endfor %}

not_in_history as (
    {%- for item in leftovers %}
    select * from not_in_history_{{ loop.index }}
    {{ "union all" if not loop.last }}
    {%- else %}
    select cast(null as varchar) as _source_file, cast(null as varchar) as _source_file_version,
           0 as exact_duplicates, 0 as unaccounted_rows
    where 1 = 0
    {%- endfor %}
),

final as (
    select
        fresh.file_id,
        fresh.file,
        fresh.path,
        fresh.file_version,
        fresh.entity,
        fresh.folder,
        fresh.landed_date,
        fresh.kind,
        fresh.size_bytes,
        fresh.sha256,
        fresh.header,
        fresh.rows,
        fresh.outcome,
        fresh.refusal_reason,
        fresh.refusal_detail,
        fresh.notes,
        case when fresh.outcome = 'accepted' and fresh.kind = 'part'
            then cast(coalesce(in_history.raw_rows, 0) - coalesce(in_history.conflicting_rows, 0) as {{ dbt.type_bigint() }}) end as new_rows,
        case when fresh.outcome = 'accepted' and fresh.kind = 'part'
            then cast(coalesce(in_history.conflicting_rows, 0) as {{ dbt.type_bigint() }}) end as conflicting_rows,
        case when fresh.outcome = 'accepted' and fresh.kind = 'part'
            then cast(coalesce(not_in_history.exact_duplicates, 0) as {{ dbt.type_bigint() }}) end as exact_duplicates,
        case when fresh.outcome = 'accepted' and fresh.kind = 'part'
            then cast(coalesce(not_in_history.unaccounted_rows, 0) as {{ dbt.type_bigint() }}) end as unaccounted_rows,
        case when fresh.outcome = 'refused' then cast(fresh.rows as {{ dbt.type_bigint() }}) end as refused_rows,
        fresh.manifest_file,
        fresh.manifest_version,
        fresh.manifest_rows,
        fresh.manifest_sha256,
        fresh.has_control_characters,
        fresh.spooled,
        fresh.registered_for_date,
        fresh.registered_at,
        fresh.registration_run_id,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as accounted_at,
        '{{ invocation_id }}' as ledger_run_id
    from fresh
    left join in_history
        on in_history._source_file = fresh.file
       and in_history._source_file_version = fresh.file_version
    left join not_in_history
        on not_in_history._source_file = fresh.file
       and not_in_history._source_file_version = fresh.file_version
)

select * from final
{%- endmacro %}
