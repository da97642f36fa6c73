{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'products') }}
-- depends_on: {{ ref('landing_inspection') }}

{{ landing_history(['products']) }}
