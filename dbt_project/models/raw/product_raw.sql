{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'products') }}

{{ landing_history(['products'], ['product_id'], 'modified_at') }}
