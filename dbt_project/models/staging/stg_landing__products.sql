{#- Staging of product versions: type and standardise; untypable values named in _type_errors. -#}
with

source as (
    select * from {{ ref('product_raw') }}
),

renamed as (
    select
        _record_id,
        {{ clean_id('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        {{ standardise('product_type') }} as product_type,
        {{ standardise('product_category') }} as product_category,
        {{ standardise('card_network') }} as card_network,
        {{ clean_text('annual_fee') }} as annual_fee_text,
        {{ clean_text('interest_rate') }} as interest_rate_text,
        {{ clean_text('min_cibil_score') }} as min_cibil_score_text,
        {{ clean_text('launch_date') }} as launch_date_text,
        {{ standardise('product_status') }} as product_status,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_text('modified_at') }} as modified_at_text,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *,
        {{ try_cast_to('annual_fee_text', 'decimal(14, 2)') }} as annual_fee,
        {{ try_cast_to('interest_rate_text', 'decimal(7, 2)') }} as interest_rate,
        {{ try_cast_to('min_cibil_score_text', dbt.type_int()) }} as min_cibil_score,
        {{ try_cast_to('launch_date_text', 'date') }} as launch_date,
        {{ try_cast_to('created_at_text', dbt.type_timestamp()) }} as created_at,
        {{ try_cast_to('modified_at_text', dbt.type_timestamp()) }} as modified_at
    from renamed
),

final as (
    select
        _record_id,
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
        {{ failed_rules([
            ('annual_fee_is_decimal', 'annual_fee_text is null or annual_fee is not null'),
            ('interest_rate_is_decimal', 'interest_rate_text is null or interest_rate is not null'),
            ('min_cibil_score_is_integer', 'min_cibil_score_text is null or min_cibil_score is not null'),
            ('launch_date_is_date', 'launch_date_text is null or launch_date is not null'),
            ('created_at_is_timestamp', 'created_at_text is null or created_at is not null'),
            ('modified_at_is_timestamp', 'modified_at_text is null or modified_at is not null'),
        ]) }} as _type_errors,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
