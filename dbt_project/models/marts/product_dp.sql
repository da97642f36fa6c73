with

latest as (
    {{ latest_valid_version(ref('int_products_validated'), 'product_id') }}
),

final as (
    select
        product_id,
        product_name,
        product_type,
        product_category,
        card_network,
        annual_fee,
        interest_rate,
        min_cibil_score,
        launch_date,
        product_status,
        created_at,
        modified_at,
        _source_file,
        _landed_date,
        _validated_at,
        '{{ invocation_id }}' as _published_run_id
    from latest
)

select * from final
