{#-
    Every file of the landing container registered once, with what its inspection found
    (include/ledger/inspect.py, through the fsdp_blob plugin): outcome accepted or refused, and for
    a refusal the reason and a sentence a person can act on. Accepted parts are spooled for the raw
    models. Incremental on file_id (file + version): a run inspects only the file versions it has
    not registered, plus the files refused for a manifest reason whose folder's manifest has changed
    since (a landing still in progress when the run listed it). Scope: the files of the run's logical
    date and earlier dates (var logical_date), never of a later date; files outside any date folder
    are registered (refused) by the first run that sees them.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_id',
    on_schema_change='fail'
) }}

with

listing as (
    {{ landing_listing() }}
),

in_scope as (
    select * from listing
    where landed_date is null or {{ within_run_scope('landed_date') }}
),

manifests as (
    select path as manifest_path, version as manifest_version
    from listing
    where kind = 'manifest'
),

candidates as (
    select
        in_scope.*,
        manifests.manifest_version as current_manifest_version
    from in_scope
    left join manifests
        on manifests.manifest_path = in_scope.manifest_path
),

to_inspect as (
    select * from candidates
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as registered
        where registered.file = candidates.file
          and registered.file_version = candidates.version
          and not (
              registered.refusal_reason in ({% for r in ['manifest_missing', 'manifest_invalid', 'not_in_manifest', 'manifest_mismatch'] %}'{{ r }}'{{ ", " if not loop.last }}{% endfor %})
              and registered.manifest_version is distinct from candidates.current_manifest_version
          )
    )
    {%- endif %}
),

inspected as (
    {{ inspect_landing('to_inspect', 'listing') }}
),

final as (
    select
        file || '|' || file_version as file_id,
        file,
        path,
        file_version,
        entity,
        folder,
        landed_date,
        kind,
        size_bytes,
        sha256,
        header,
        rows,
        outcome,
        reason as refusal_reason,
        detail as refusal_detail,
        notes,
        manifest_file,
        manifest_version,
        manifest_rows,
        manifest_sha256,
        has_control_characters,
        spool is not null as spooled,
        {% if logical_date() %}cast('{{ logical_date() }}' as date){% else %}cast(null as date){% endif %} as registered_for_date,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as registered_at,
        '{{ invocation_id }}' as registration_run_id
    from inspected
)

select * from final
