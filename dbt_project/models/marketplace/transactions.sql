{#- The transactions of the data product enriched for analysis: one row per transaction (txn_id),
    with the account's customer and product, the debit/credit split of successful amounts and the
    calendar month. The customer's descriptive dimensions are not copied here: the semantic layer
    joins them from `customers` on cust_id, so a customer who moves is analysed under the current
    zone, city and branch (one definition of a customer's dimensions, not one per table).
    Incremental: each run appends the transactions transaction_dp accepted since the mart's latest
    _validated_at (transaction_dp is append-only and a txn_id is accepted once), so a day costs the
    day's transactions, not the history; an account's customer and product never change (the
    generator and the seed's sources keep them), so rows already here stay true. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail'
) }}

with

transactions as (
    select * from {{ ref('transaction_dp') }}
    where {{ ingested_after_watermark('_validated_at') }}
),

accounts as (
    select account_id, cust_id, product_id from {{ ref('account_dp') }}
),

products as (
    select product_id, product_type, product_category from {{ ref('product_dp') }}
),

final as (
    select
        transactions.txn_id,
        transactions.txn_ts,
        transactions.txn_date,
        cast({{ dbt.date_trunc('month', 'transactions.txn_date') }} as date) as txn_month,
        accounts.cust_id,
        transactions.account_id,
        accounts.product_id,
        products.product_type,
        products.product_category,
        transactions.amount,
        transactions.currency_code,
        transactions.txn_type,
        transactions.txn_mode,
        transactions.channel,
        transactions.txn_reason,
        transactions.merchant_name,
        transactions.txn_status,
        transactions.txn_status = 'Success' as is_successful,
        case when transactions.txn_status = 'Success' and transactions.txn_type = 'Debit'
            then transactions.amount else 0 end as debit_amount,
        case when transactions.txn_status = 'Success' and transactions.txn_type = 'Credit'
            then transactions.amount else 0 end as credit_amount,
        case when transactions.txn_status = 'Success' then transactions.amount else 0 end as successful_amount,
        transactions._validated_at
    from transactions
    inner join accounts
        on transactions.account_id = accounts.account_id
    left join products
        on accounts.product_id = products.product_id
)

select * from final
