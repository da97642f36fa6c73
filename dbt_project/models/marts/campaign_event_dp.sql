{#- Campaign events are immutable: one row per event_id, and int_campaign_events_validated accepts
    one event per (campaign, customer, stage), so the product holds each journey's stages once.
    Incremental like transaction_dp: appends the events validated (accepted) since the last run,
    including re-checked ones; the output port appends them as new Parquet files partitioned by
    stage_date. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    post_hook=["{{ export_to_curated(partition_by=['stage_date'], append=true) }}"]
) }}

with

validated as (
    select * from {{ ref('int_campaign_events_validated') }}
    where is_valid
      and {{ ingested_after_watermark('_validated_at') }}
),

final as (
    select
        event_id,
        cust_id,
        campaign_id,
        campaign_name,
        product_id,
        stage,
        stage_order,
        stage_ts,
        cast(stage_ts as date) as stage_date,
        campaign_channel,
        _source_file,
        _landed_date,
        _ingested_at,
        _validated_at,
        '{{ invocation_id }}' as _published_run_id
    from validated
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as published
        where published.event_id = validated.event_id
    )
    {%- endif %}
)

select * from final
