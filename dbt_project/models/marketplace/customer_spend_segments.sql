{#- Spend segments: one row per customer and calendar month with spend (cust_id, spend_month):
    the month's spend (successful debits) and its segment. Thresholds (INR per month), chosen for
    a retail book whose median card or UPI payment is a few hundred to a few thousand rupees:
      Low Spend     under 25,000
      Medium Spend  25,000 to under 1,00,000
      High Spend    1,00,000 and more
    A customer with no spend in a month has no row for it. -#}
{%- set medium_from, high_from = 25000, 100000 -%}
with

transactions as (
    select cust_id, txn_month, debit_amount from {{ ref('transactions') }}
    where debit_amount > 0
),

monthly as (
    select
        cust_id,
        txn_month as spend_month,
        sum(debit_amount) as spend,
        count(*) as debit_count
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
        end as spend_segment
    from monthly
)

select * from final
