{#- What each customer holds: one row per customer with at least one account in account_dp
    (cust_id): accounts, distinct products, credit cards with their limits and outstanding
    balances, loans, deposit balances. Shared by the customers mart and the archetypes. -#}
with

accounts as (
    select * from {{ ref('account_dp') }}
),

products as (
    select product_id, product_type from {{ ref('product_dp') }}
),

final as (
    select
        accounts.cust_id,
        count(*) as accounts_held,
        count(distinct accounts.product_id) as products_held,
        sum(case when products.product_type = 'Credit Card' then 1 else 0 end) as credit_cards_held,
        sum(case when products.product_type = 'Credit Card' then accounts.credit_limit end) as card_credit_limit,
        sum(case when products.product_type = 'Credit Card' then accounts.current_balance end) as card_balance,
        sum(case when products.product_type in ('Savings Account', 'Current Account', 'Fixed Deposit')
            then accounts.current_balance else 0 end) as deposit_balance,
        sum(case when products.product_type in ('Personal Loan', 'Home Loan') then 1 else 0 end) as loans_held
    from accounts
    left join products
        on accounts.product_id = products.product_id
    group by accounts.cust_id
)

select * from final
