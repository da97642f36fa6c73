{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='account_id',
    on_schema_change='fail') }}

with

latest as (
    {{ latest_valid_version(ref('int_accounts_validated'), 'account_id') }}
),

final as (
    select
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
        _source_file,
        _landed_date,
        _validated_at,
        '{{ invocation_id }}' as _published_run_id
    from latest
)

select * from final
