{#- Incremental like int_transactions_validated: appends the rows rejected since the last run. -#}
{{ config(materialized='incremental', on_schema_change='fail') }}

{{ quarantine('transaction_raw', 'int_transactions_validated', 'transactions') }}
