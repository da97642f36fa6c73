{#- Cleansing rules for account versions, including referential rules: an account must belong to a
    customer and a product of the data product (customer_overview_dp, product_dp), so that the
    relationships between the product tables hold. Incremental like int_transactions_validated: new
    versions are checked, rejected ones re-checked, so an account that arrived before its customer is
    accepted once the customer is. -#}
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
    ('account_id_format', regexp_like('account_id', '^[0-9]{12}$')),
    ('cust_id_format', regexp_like('cust_id', '^[A-Za-z0-9]{10}$')),
    ('modified_at_required', 'modified_at is not null'),
    ('account_open_date_required', 'account_open_date is not null'),
    ('credit_limit_valid', 'credit_limit is null or credit_limit >= 0'),
    ('current_balance_required', 'current_balance is not null'),
    ('currency_code_valid', regexp_like('currency_code', '^[A-Z]{3}$')),
    ('cust_id_known', 'customer_is_known'),
    ('product_id_known', 'product_is_known'),
] + contract_rules('accounts') -%}

with

accounts as (
    {{ rows_to_validate(ref('stg_landing__accounts'), recheck_rejected=true) }}
),

customers as (
    select cust_id from {{ ref('customer_overview_dp') }}
),

products as (
    select product_id from {{ ref('product_dp') }}
),

joined as (
    select
        accounts.*,
        customers.cust_id is not null as customer_is_known,
        products.product_id is not null as product_is_known
    from accounts
    left join customers
        on accounts.cust_id = customers.cust_id
    left join products
        on accounts.product_id = products.product_id
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
