{#- Cleansing rules for transactions. Incremental: each run checks the transactions ingested since
    the last run (10M rows are too many to re-check every day) plus the transactions still rejected
    (few), which are re-checked and replaced (delete+insert on _record_id): a transaction that landed
    before its account is accepted once the account is. _validated_at tells transaction_dp which
    rows to pick up. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_record_id',
    incremental_predicates=['not is_valid'],
    on_schema_change='fail'
) }}
{#- incremental_predicates: only re-checked (previously rejected) rows can already be in the table,
    so the delete looks at those alone instead of matching every new key against the whole table. -#}
{%- set rules = [
    ('txn_id_format', regexp_like('txn_id', '^T[0-9]{18}$')),
    ('txn_ts_required', 'txn_ts is not null'),
    ('amount_positive', 'amount > 0'),
    ('currency_code_valid', regexp_like('currency_code', '^[A-Z]{3}$')),
    ('merchant_name_valid', 'merchant_name is null or length(merchant_name) <= 100'),
    ('account_id_known', 'account_is_known'),
] + contract_rules('transactions') -%}

with

transactions as (
    {{ rows_to_validate(ref('stg_landing__transactions'), recheck_rejected=true) }}
),

accounts as (
    select account_id from {{ ref('account_dp') }}
),

joined as (
    select
        transactions.*,
        accounts.account_id is not null as account_is_known
    from transactions
    left join accounts
        on transactions.account_id = accounts.account_id
),

checked as (
    select
        *,
        {{ with_failed_rules('_type_errors', rules) }} as failed_rules
    from joined
),

final as (
    select
        *,
        {{ list_length('failed_rules') }} = 0 as is_valid,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as _validated_at
    from checked
)

select * from final
