{#- Staging of transactions: type and standardise; untypable values named in _type_errors. -#}
with

source as (
    select * from {{ ref('transaction_raw') }}
),

renamed as (
    select
        _record_id,
        {{ clean_id('txn_id') }} as txn_id,
        {{ clean_id('account_id') }} as account_id,
        {{ clean_text('txn_ts') }} as txn_ts_text,
        {{ clean_text('amount') }} as amount_text,
        upper({{ clean_text('currency_code') }}) as currency_code,
        {{ standardise('txn_type') }} as txn_type,
        {{ standardise('txn_mode') }} as txn_mode,
        {{ standardise('channel') }} as channel,
        {{ standardise('txn_reason') }} as txn_reason,
        {{ clean_text('merchant_name') }} as merchant_name,
        {{ standardise('txn_status') }} as txn_status,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *,
        {{ try_cast_to('txn_ts_text', dbt.type_timestamp()) }} as txn_ts,
        {{ try_cast_to('amount_text', 'decimal(14, 2)') }} as amount
    from renamed
),

final as (
    select
        _record_id,
        txn_id,
        account_id,
        txn_ts,
        amount,
        currency_code,
        txn_type,
        txn_mode,
        channel,
        txn_reason,
        merchant_name,
        txn_status,
        {{ failed_rules([
            ('txn_ts_is_timestamp', 'txn_ts_text is null or txn_ts is not null'),
            ('amount_is_decimal', 'amount_text is null or amount is not null'),
        ]) }} as _type_errors,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
