{#- Spend segments: one row per customer and calendar month with spend (cust_id, spend_month):
    the month's spend (successful debits) and its segment. Thresholds (INR per month), chosen for
    a retail book whose median card or UPI payment is a few hundred to a few thousand rupees:
      Low Spend     under 25,000
      Medium Spend  25,000 to under 1,00,000
      High Spend    1,00,000 and more
    A customer with no spend in a month has no row for it.
    Incremental: a run recomputes only the customer-months that received debits since the table's
    latest _validated_at (usually the day's month; a late transaction's old month too), from every
    debit of those customer-months, and replaces them (delete+insert on cust_id, spend_month). The
    months concerned are read first and inlined (value_range), so the scan of `transactions` skips the other
    months' row groups. -#}
{%- set medium_from, high_from = 25000, 100000 -%}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['cust_id', 'spend_month'],
    on_schema_change='fail'
) }}
{%- set months = value_range(ref('transactions'), 'txn_month', 'debit_amount > 0 and '
                             ~ ingested_after_watermark('_validated_at')) if is_incremental() else none %}
with

{%- if months is not none %}

touched as (
    select distinct cust_id, txn_month from {{ ref('transactions') }}
    where debit_amount > 0 and {{ ingested_after_watermark('_validated_at') }}
),
{%- endif %}

transactions as (
    select transactions.cust_id, transactions.txn_month, transactions.debit_amount, transactions._validated_at
    from {{ ref('transactions') }} as transactions
    {%- if months is not none %}
    inner join touched
        on transactions.cust_id = touched.cust_id and transactions.txn_month = touched.txn_month
    where transactions.debit_amount > 0
      {%- if months %}
      and transactions.txn_month between {{ months[0] }} and {{ months[1] }}
      {%- else %}
      and false  {#- nothing new: no month to recompute #}
      {%- endif %}
    {%- else %}
    where transactions.debit_amount > 0
    {%- endif %}
),

monthly as (
    select
        cust_id,
        txn_month as spend_month,
        sum(debit_amount) as spend,
        count(*) as debit_count,
        max(_validated_at) as _validated_at
    from transactions
    group by cust_id, txn_month
),

final as (
    select
        cust_id,
        spend_month,
        spend,
        debit_count,
        case
            when spend >= {{ high_from }} then 'High Spend'
            when spend >= {{ medium_from }} then 'Medium Spend'
            else 'Low Spend'
        end as spend_segment,
        _validated_at
    from monthly
)

select * from final
