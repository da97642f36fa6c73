{#- Staging of account versions: type and standardise; untypable values named in _type_errors. -#}
with

source as (
    select * from {{ ref('account_raw') }}
),

renamed as (
    select
        _record_id,
        {{ clean_id('account_id') }} as account_id,
        {{ clean_id('cust_id') }} as cust_id,
        {{ clean_id('product_id') }} as product_id,
        {{ clean_text('account_open_date') }} as account_open_date_text,
        {{ standardise('account_status') }} as account_status,
        {{ clean_text('credit_limit') }} as credit_limit_text,
        {{ clean_text('current_balance') }} as current_balance_text,
        upper({{ clean_text('currency_code') }}) as currency_code,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_text('modified_at') }} as modified_at_text,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *,
        {{ try_cast_to('account_open_date_text', 'date') }} as account_open_date,
        {{ try_cast_to('credit_limit_text', 'decimal(14, 2)') }} as credit_limit,
        {{ try_cast_to('current_balance_text', 'decimal(14, 2)') }} as current_balance,
        {{ try_cast_to('created_at_text', dbt.type_timestamp()) }} as created_at,
        {{ try_cast_to('modified_at_text', dbt.type_timestamp()) }} as modified_at
    from renamed
),

final as (
    select
        _record_id,
        account_id,
        cust_id,
        product_id,
        account_open_date,
        account_status,
        credit_limit,
        current_balance,
        currency_code,
        created_at,
        modified_at,
        {{ failed_rules([
            ('account_open_date_is_date', 'account_open_date_text is null or account_open_date is not null'),
            ('credit_limit_is_decimal', 'credit_limit_text is null or credit_limit is not null'),
            ('current_balance_is_decimal', 'current_balance_text is null or current_balance is not null'),
            ('created_at_is_timestamp', 'created_at_text is null or created_at is not null'),
            ('modified_at_is_timestamp', 'modified_at_text is null or modified_at is not null'),
        ]) }} as _type_errors,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
