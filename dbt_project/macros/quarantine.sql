{#
    The quarantine of one entity: every raw row that failed at least one cleansing rule, as it was
    landed (text, landing column names), with the names of the failed rules and where it came from
    (landing entity, file and its version, row of the file, dt folder; for a conflicting_version,
    the file of the version's first landing). raw = accepted + rejected holds for every entity (the
    reconciles_with_raw test).
#}
{% macro quarantine(raw_model, validated_model, landing_table) -%}
{%- set columns = source_columns(landing_table) -%}
with

rejected as (
    select _record_id, failed_rules, _ingested_at
    from {{ ref(validated_model) }}
    where not is_valid
      and {{ ingested_after_watermark() }}
),

raw as (
    select * from {{ ref(raw_model) }}
    where {{ ingested_after_watermark() }}
),

final as (
    select
        raw._record_id,
        rejected.failed_rules,
        {%- for column in columns %}
        raw.{{ adapter.quote(column) }},
        {%- endfor %}
        raw._conflicts_with,
        raw._landing_entity,
        raw._source_file,
        raw._source_file_version,
        raw._source_row,
        raw._landed_date,
        raw._ingested_at
    from rejected
    inner join raw
        on raw._record_id = rejected._record_id
)

select * from final
{%- endmacro %}
