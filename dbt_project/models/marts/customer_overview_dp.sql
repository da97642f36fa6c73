{#- Seed: dataos://icebasetw:fs_accelerator/customer_overview_dp, partitioned by country, state.
    The output port (include/output_port) publishes it after the quality gate with the same partitioning. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='cust_id',
    on_schema_change='fail') }}

with

latest as (
    {{ latest_valid_version(ref('int_customers_validated'), 'cust_id') }}
),

final as (
    select
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
        _source_file,
        _landed_date,
        _validated_at,
        '{{ invocation_id }}' as _published_run_id
    from latest
)

select * from final
