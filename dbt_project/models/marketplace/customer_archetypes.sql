{#- Cross-sell archetypes: one row per customer of the data product (cust_id) and the archetype
    its behaviour puts it in. Behaviour is read over the 90 days up to the latest transaction the
    product holds: successful debits and credits, the share of deal-driven activity (Ecom debits and
    Refund credits among successful transactions), card utilisation (outstanding / limit over the
    customer's cards), CIBIL score and affluence level. The first rule that matches wins:
      1 Recovering Credit Users  CIBIL under 700 (below most cards' eligibility: rebuilding credit)
      2 Financially Stressed     card utilisation 70 % or more, or debits at least 1.5x credits,
                                 or spending with no credit at all on a Low affluence
      3 Prosperous and Content   High affluence, CIBIL 750 or more, utilisation under 30 % (or no card)
      4 Deal Chasers             at least 3 successful transactions, 25 % or more of them deal-driven
      5 Self Aware Avoiders      creditworthy (CIBIL 700 or more) but holding no credit card
      6 Generic                  everyone else (including too little behaviour to tell)
    Thresholds live in the variables below; the unit tests pin each rule and the order.
    The window's last day is read once before the query (value_range) and inlined as a constant,
    so the scan of the transaction history skips the row groups older than the window instead of
    reading every row; a unit test's fixture has no relation to read it from, so there the window
    ends at window_end's max(txn_date), the same day. -#}
{%- set window_days = 90 -%}
{%- set dates = value_range(ref('transactions'), 'txn_date') -%}
{%- set last_day = dates[1] if dates else 'window_end.last_day' -%}
{%- set recovering_below, prosperous_from = 700, 750 -%}
{%- set stressed_utilisation, stressed_ratio, prosperous_utilisation = 0.7, 1.5, 0.3 -%}
{%- set deal_min_txns, deal_share = 3, 0.25 -%}
with

customers as (
    select cust_id, cibil_score, affluence_level from {{ ref('customer_overview_dp') }}
),

holdings as (
    select cust_id, credit_cards_held, card_credit_limit, card_balance from {{ ref('customer_holdings') }}
),

transactions as (
    select * from {{ ref('transactions') }}
),

window_end as (
    select max(txn_date) as last_day from transactions
),

behaviour as (
    select
        transactions.cust_id,
        sum(case when transactions.is_successful then 1 else 0 end) as successful_txns,
        sum(transactions.debit_amount) as debits,
        sum(transactions.credit_amount) as credits,
        sum(case when transactions.is_successful and ((transactions.txn_reason = 'Ecom' and transactions.txn_type = 'Debit')
                 or transactions.txn_reason = 'Refund') then 1 else 0 end) as deal_txns
    from transactions
    cross join window_end
    where transactions.txn_date > {{ dbt.dateadd('day', -window_days, last_day) }}
    group by transactions.cust_id
),

inputs as (
    select
        customers.cust_id,
        customers.cibil_score,
        customers.affluence_level,
        coalesce(holdings.credit_cards_held, 0) as credit_cards_held,
        case when holdings.card_credit_limit > 0
            then cast(holdings.card_balance / holdings.card_credit_limit as double) end as card_utilisation,
        coalesce(behaviour.successful_txns, 0) as successful_txns,
        coalesce(behaviour.debits, 0) as debits,
        coalesce(behaviour.credits, 0) as credits,
        case when behaviour.credits > 0 then cast(behaviour.debits / behaviour.credits as double) end as debit_to_credit_ratio,
        case when behaviour.successful_txns > 0
            then cast(behaviour.deal_txns as double) / behaviour.successful_txns end as deal_share
    from customers
    left join holdings
        on customers.cust_id = holdings.cust_id
    left join behaviour
        on customers.cust_id = behaviour.cust_id
),

final as (
    select
        *,
        case
            when cibil_score < {{ recovering_below }} then 'Recovering Credit Users'
            when card_utilisation >= {{ stressed_utilisation }}
                or debit_to_credit_ratio >= {{ stressed_ratio }}
                or (credits = 0 and debits > 0 and affluence_level = 'Low') then 'Financially Stressed'
            when affluence_level = 'High' and cibil_score >= {{ prosperous_from }}
                and coalesce(card_utilisation, 0) < {{ prosperous_utilisation }} then 'Prosperous and Content'
            when successful_txns >= {{ deal_min_txns }} and deal_share >= {{ deal_share }} then 'Deal Chasers'
            when cibil_score >= {{ recovering_below }} and credit_cards_held = 0 then 'Self Aware Avoiders'
            else 'Generic'
        end as cross_sell_archetype
    from inputs
)

select * from final
