{#- Campaign events are immutable: event_id alone identifies a landed row (no version column). -#}
{{ config(materialized='incremental', on_schema_change='fail') }}
-- depends_on: {{ source('landing', 'campaign_events') }}
-- depends_on: {{ ref('landing_inspection') }}

{{ landing_history(['campaign_events']) }}
