{#-
    Staging of customer versions: rename, type, standardise. No business rules here (those are in
    int_customers_validated); values that cannot be typed become null and are named in
    _type_errors, so the quarantine can say why.
-#}
with

source as (
    select * from {{ ref('customer_overview_raw') }}
),

renamed as (
    select
        _record_id,
        {#- cust_id stays text, untrimmed: the seed checks ^[A-Za-z0-9]{10}$ (D6), the generator makes 10 digits #}
        {{ clean_id('cust_id') }} as cust_id,
        {{ clean_text('cust_dob') }} as cust_dob_text,
        {{ clean_text('cust_first_name') }} as cust_first_name,
        {{ clean_text('cust_last_name') }} as cust_last_name,
        {{ clean_text('cust_middle_name') }} as cust_middle_name,
        {{ standardise('cust_segment') }} as cust_segment,
        {{ standardise('cust_title') }} as cust_title,
        {{ standardise('customer_category') }} as customer_category,
        {#- D8: the landing keeps the seed's spelling customer_privelege #}
        {{ standardise('customer_privilege', 'customer_privelege') }} as customer_privilege,
        {{ standardise('customer_type') }} as customer_type,
        {{ clean_text('email_addr') }} as email_addr,
        {{ standardise('gender') }} as gender,
        {{ standardise('marital_status') }} as marital_status,
        {{ standardise('minor_flag') }} as minor_flag,
        {{ clean_text('mobile_number1') }} as mobile_number1,
        {{ standardise('nationality') }} as nationality,
        {{ standardise('occupation') }} as occupation,
        {{ standardise('senior_citizen_flag') }} as senior_citizen_flag,
        {{ standardise('sourcing_channel') }} as sourcing_channel,
        {{ standardise('customer_risk_category') }} as customer_risk_category,
        {#- D8: the landing keeps the seed's spelling afflunce_level #}
        {{ standardise('affluence_level', 'afflunce_level') }} as affluence_level,
        {{ standardise('customer_status') }} as customer_status,
        {{ clean_text('customer_addressline1') }} as customer_addressline1,
        {{ clean_text('customer_addressline2') }} as customer_addressline2,
        {{ clean_text('customer_addressline3') }} as customer_addressline3,
        {{ clean_text('city') }} as city,
        {{ clean_text('state') }} as state,
        {{ standardise('country') }} as country,
        {{ clean_text('pin') }} as pin,
        {{ clean_text('created_at') }} as created_at_text,
        {{ clean_text('modified_at') }} as modified_at_text,
        {{ clean_text('cibil_check_date') }} as cibil_check_date_text,
        {{ clean_text('cibil_score') }} as cibil_score_text,
        {{ clean_text('country_code') }} as country_code,
        {{ clean_text('branch_name') }} as branch_name,
        {{ standardise('zone') }} as zone,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from source
),

typed as (
    select
        *,
        {{ try_cast_to('cust_dob_text', 'date') }} as cust_dob,
        {{ try_cast_to('created_at_text', dbt.type_timestamp()) }} as created_at,
        {{ try_cast_to('modified_at_text', dbt.type_timestamp()) }} as modified_at,
        {#- the seed casts through timestamp: date(cast(cibil_check_date as timestamp)) #}
        cast({{ try_cast_to('cibil_check_date_text', dbt.type_timestamp()) }} as date) as cibil_check_date,
        {{ try_cast_to('cibil_score_text', dbt.type_int()) }} as cibil_score
    from renamed
),

final as (
    select
        _record_id,
        cust_id,
        cust_dob,
        cust_first_name,
        cust_last_name,
        cust_middle_name,
        cust_segment,
        cust_title,
        customer_category,
        customer_privilege,
        customer_type,
        email_addr,
        gender,
        marital_status,
        minor_flag,
        mobile_number1,
        nationality,
        occupation,
        senior_citizen_flag,
        sourcing_channel,
        customer_risk_category,
        affluence_level,
        customer_status,
        customer_addressline1,
        customer_addressline2,
        customer_addressline3,
        city,
        state,
        country,
        pin,
        created_at,
        modified_at,
        cibil_check_date,
        cibil_score,
        country_code,
        branch_name,
        zone,
        {{ failed_rules([
            ('cust_dob_is_date', 'cust_dob_text is null or cust_dob is not null'),
            ('created_at_is_timestamp', 'created_at_text is null or created_at is not null'),
            ('modified_at_is_timestamp', 'modified_at_text is null or modified_at is not null'),
            ('cibil_check_date_is_date', 'cibil_check_date_text is null or cibil_check_date is not null'),
            ('cibil_score_is_integer', 'cibil_score_text is null or cibil_score is not null'),
        ]) }} as _type_errors,
        _landing_entity,
        _source_file,
        _landed_date,
        _ingested_at
    from typed
)

select * from final
