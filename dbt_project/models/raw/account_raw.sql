{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'accounts') }}

{{ landing_history(['accounts'], ['account_id'], 'modified_at') }}
