{#- Staging of campaign events: type and standardise; untypable values named in _type_errors. The
    landing column `channel` is staged as campaign_channel: its allowed values (contact channels)
    are not the transactions' channels, and allowed_values is keyed by column name. -#}
with

source as (
    select * from {{ ref('campaign_event_raw') }}
),

renamed as (
    select
        _record_id,
        {{ clean_id('event_id') }} as event_id,
        {{ clean_id('cust_id') }} as cust_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
        {{ clean_id('product_id') }} as product_id,
        {{ standardise('stage') }} as stage,
        {{ clean_text('stage_ts') }} as stage_ts_text,
        {{ standardise('campaign_channel', 'channel') }} as campaign_channel,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *,
        {{ try_cast_to('stage_ts_text', dbt.type_timestamp()) }} as stage_ts
    from renamed
),

final as (
    select
        _record_id,
        event_id,
        cust_id,
        campaign_id,
        campaign_name,
        product_id,
        stage,
        stage_ts,
        campaign_channel,
        {{ failed_rules([
            ('stage_ts_is_timestamp', 'stage_ts_text is null or stage_ts is not null'),
        ]) }} as _type_errors,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
