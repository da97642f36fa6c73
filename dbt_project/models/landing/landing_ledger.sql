{#- The landing ledger: one row per landed file version, its outcome and what became of each of its
    rows (macros/landing_ledger.sql). Runs after every raw history model; the depends_on lines name
    them (the macro stops the build when a raw model of the landing is missing here). Its post-hook
    deletes the spool files of the parts it has accounted for. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_id',
    schema='fs_accelerator',
    on_schema_change='fail',
    post_hook=["{{ release_spools('select file, file_version from ' ~ this ~ \" where ledger_run_id = '\" ~ invocation_id ~ \"' and spooled\") }}"]
) }}
-- depends_on: {{ ref('customer_overview_raw') }}
-- depends_on: {{ ref('product_raw') }}
-- depends_on: {{ ref('account_raw') }}
-- depends_on: {{ ref('transaction_raw') }}
-- depends_on: {{ ref('campaign_event_raw') }}

{{ landing_ledger() }}
