{#- Cleansing rules for product versions (not in the seed, which shows only the customer SQL and
    says "similarly, transformations have been applied to other entities"): same style, one named
    rule per condition, from the landing contract. A min_cibil_score of 0 (or empty) means no
    minimum (the generator's deposits). -#}
{%- set rules = [
    ('product_id_format', regexp_like('product_id', '^[A-Za-z0-9_-]{1,20}$')),
    ('modified_at_required', 'modified_at is not null'),
    ('product_name_valid', 'length(product_name) <= 100'),
    ('annual_fee_valid', 'annual_fee >= 0'),
    ('interest_rate_valid', 'interest_rate between 0 and 100'),
    ('min_cibil_score_valid', 'min_cibil_score is null or min_cibil_score = 0 or min_cibil_score between 300 and 900'),
    ('launch_date_required', 'launch_date is not null'),
] + contract_rules('products', refine={
    'card_network_allowed': "case when product_type = 'Credit Card' then " ~ is_allowed('card_network')
        ~ " else card_network is null end",
}) -%}

with

products as (
    select * from {{ ref('stg_landing__products') }}
),

checked as (
    select
        *,
        {{ with_failed_rules('_type_errors', rules) }} as failed_rules
    from products
),

final as (
    select
        *,
        {{ list_length('failed_rules') }} = 0 as is_valid,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as _validated_at
    from checked
)

select * from final
