{#
    The quarantine of one entity: every raw row that failed at least one cleansing rule, as it was
    landed (text, landing column names), with the names of the failed rules and where it came from
    (landing entity, file and its version, row of the file, dt folder; for a conflicting_version,
    the file of the version's first landing). raw = accepted + rejected holds for every entity (the
    reconciles_with_raw test).

    Incremental (delete+insert on _record_id), so that a day costs the day and not the history:
      * the rows the validation checked since the quarantine's latest _validated_at (the watermark)
        and rejected come in: rows rejected before keep the landed columns the quarantine already
        holds and get their new failed_rules; rows rejected for the first time take theirs from the
        raw history, joined on _record_id and _ingested_at (the same value in both) so DuckDB's
        join filter skips every part of the history ingested before the earliest of them;
      * the pre-hook (quarantine_release) first deletes the quarantined rows the validation has
        re-checked and accepted since the watermark (a transaction that landed before its account,
        an event that completes a journey), so a row never sits in both.
    A full refresh rebuilds it from the whole history, as the first run does.
#}
{% macro quarantine(raw_model, validated_model, landing_table) -%}
{%- set columns = source_columns(landing_table) -%}
{%- set landed = ['_conflicts_with', '_landing_entity', '_source_file', '_source_file_version', '_source_row',
                  '_landed_date', '_ingested_at'] -%}
with

rejected as (
    select _record_id, failed_rules, _ingested_at, _validated_at
    from {{ ref(validated_model) }}
    where not is_valid
    {%- set watermark = quarantine_watermark() %}
    {%- if watermark is not none %}
      and _validated_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
    {%- endif %}
),

{%- if is_incremental() %}

held as (
    {#- re-checked and still rejected: the landed columns are the quarantine's own #}
    select
        held._record_id,
        rejected.failed_rules,
        {%- for column in columns %}
        held.{{ adapter.quote(column) }},
        {%- endfor %}
        {%- for column in landed %}
        held.{{ column }},
        {%- endfor %}
        rejected._validated_at
    from rejected
    inner join {{ this }} as held
        on held._record_id = rejected._record_id
),

first_rejected as (
    select * from rejected
    where not exists (select 1 from {{ this }} as held where held._record_id = rejected._record_id)
),
{%- else %}

first_rejected as (
    select * from rejected
),
{%- endif %}

from_history as (
    select
        raw._record_id,
        first_rejected.failed_rules,
        {%- for column in columns %}
        raw.{{ adapter.quote(column) }},
        {%- endfor %}
        {%- for column in landed %}
        raw.{{ column }},
        {%- endfor %}
        first_rejected._validated_at
    from first_rejected
    inner join {{ ref(raw_model) }} as raw
        on raw._record_id = first_rejected._record_id
        and raw._ingested_at = first_rejected._ingested_at
),

final as (
    {%- if is_incremental() %}
    select * from held
    union all
    {%- endif %}
    select * from from_history
)

select * from final
{%- endmacro %}

{#- The quarantine's pre-hook: deletes the quarantined rows that `validated_model` has re-checked
    and accepted since the quarantine's watermark (its latest _validated_at, read before anything
    changes, as the model's own query reads it). Nothing to do on a first run or a full refresh. -#}
{% macro quarantine_release(validated_model) -%}
    {%- if execute and is_incremental() -%}
        {%- set watermark = quarantine_watermark() -%}
        delete from {{ this }}
        where _record_id in (
            select _record_id from {{ ref(validated_model) }}
            where is_valid
            {%- if watermark is not none %}
              and _validated_at > cast('{{ watermark }}' as {{ dbt.type_timestamp() }})
            {%- endif %}
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The quarantine's watermark: its latest _validated_at, none when it holds no row (or is a table of
    an earlier release, which had no _validated_at: its first incremental run then re-reads every
    rejected row, and on_schema_change adds the column). -#}
{% macro quarantine_watermark() -%}
    {%- if not (execute and is_incremental()) -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if '_validated_at' not in names -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(run_query("select cast(max(_validated_at) as varchar) from " ~ this).columns[0].values()[0]) -%}
{%- endmacro %}
