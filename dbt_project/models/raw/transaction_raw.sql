{#- Transactions are immutable: txn_id alone identifies a landed row (no version column). -#}
{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'transactions') }}

{{ landing_history(['transactions'], ['txn_id']) }}
