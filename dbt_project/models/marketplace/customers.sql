{#- The wide customers mart: one row per customer of the data product (cust_id), the descriptive
    dimensions the market place names (zone, city, branch, state, segment, risk, affluence) and
    the customer's product holdings, cross-sell archetype and latest spend segment. PII columns are carried with the same governance tags as
    customer_overview_dp (TW.mask, TW.dob), so the role views mask them here too. -#}
{{ config(materialized='table') }}

with

customers as (
    select * from {{ ref('customer_overview_dp') }}
),

holdings as (
    select * from {{ ref('customer_holdings') }}
),

archetypes as (
    select cust_id, cross_sell_archetype from {{ ref('customer_archetypes') }}
),

latest_spend as (
    {#- the segment of the customer's latest month with spend -#}
    select cust_id, spend_month, spend_segment
    from (
        select
            cust_id, spend_month, spend_segment,
            row_number() over (partition by cust_id order by spend_month desc) as month_rank
        from {{ ref('customer_spend_segments') }}
    ) as ranked
    where month_rank = 1
),

final as (
    select
        customers.cust_id,
        customers.cust_first_name,
        customers.cust_middle_name,
        customers.cust_last_name,
        customers.email_addr,
        customers.mobile_number1,
        customers.cust_dob,
        customers.customer_type,
        customers.cust_segment,
        customers.customer_category,
        customers.customer_privilege,
        customers.gender,
        customers.occupation,
        customers.nationality,
        customers.sourcing_channel,
        customers.customer_risk_category,
        customers.affluence_level,
        customers.customer_status,
        customers.zone,
        customers.city,
        customers.branch_name,
        customers.state,
        customers.country,
        customers.cibil_score,
        case
            when customers.cibil_score < 650 then 'Poor (300-649)'
            when customers.cibil_score < 700 then 'Fair (650-699)'
            when customers.cibil_score < 750 then 'Good (700-749)'
            else 'Excellent (750-900)'
        end as cibil_band,
        customers.created_at,
        cast(customers.created_at as date) as customer_since,
        coalesce(holdings.accounts_held, 0) as accounts_held,
        coalesce(holdings.products_held, 0) as products_held,
        coalesce(holdings.credit_cards_held, 0) as credit_cards_held,
        coalesce(holdings.credit_cards_held, 0) > 0 as holds_credit_card,
        coalesce(holdings.loans_held, 0) > 0 as holds_loan,
        holdings.card_credit_limit,
        holdings.card_balance,
        case when holdings.card_credit_limit > 0
            then cast(holdings.card_balance / holdings.card_credit_limit as double) end as card_utilisation,
        coalesce(holdings.deposit_balance, 0) as deposit_balance,
        archetypes.cross_sell_archetype,
        coalesce(latest_spend.spend_segment, 'No Spend') as spend_segment,
        latest_spend.spend_month as spend_segment_month
    from customers
    left join holdings
        on customers.cust_id = holdings.cust_id
    left join archetypes
        on customers.cust_id = archetypes.cust_id
    left join latest_spend
        on customers.cust_id = latest_spend.cust_id
)

select * from final
