{#- Transactions are immutable: txn_id alone identifies a landed row (no version column). -#}
{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'transactions') }}
-- depends_on: {{ ref('landing_inspection') }}

{{ landing_history(['transactions']) }}
