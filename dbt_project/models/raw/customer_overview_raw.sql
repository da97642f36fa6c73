{#- Seed: dataos://icebasetw:fs_accelerator/customer_overview_raw (merge on cust_id, modified_at).
    The initial load (customers) and the update tool's new versions (customer_updates) share one
    history, as in the seed, where both were merged into customer_overview_raw. -#}
{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'customers') }}, {{ source('landing', 'customer_updates') }}
-- depends_on: {{ ref('landing_inspection') }}

{{ landing_history(['customers', 'customer_updates']) }}
