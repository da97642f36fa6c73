{#-
    The seed's cleansing SQL (steps/customer-overview.sql) as named rules; a rule fails when its
    condition is false or null, as in the seed's WHERE clause (so LENGTH(x) <= n also requires x).
    Decisions (the model's docs say more):
    * D1: the seed's `... AND LENGTH(COALESCE(cust_middle_name, '')) <= 35 or
      cust_middle_name is null AND ...` skips every condition after the `or`; the intent
      "middle name is null or valid" is rule cust_middle_name_valid, inside one AND chain.
    * D4: rules depend on customer_type. Personal customers need title, gender, marital
      status, first name, minor/senior flags, occupation and date of birth; Corporate and Merchant
      customers have none of them (cust_dob, when present, is their date of incorporation).
    * D6: LENGTH(cibil_score) = 3 relied on Spark's implicit int-to-string cast; with an
      integer score, BETWEEN 300 AND 900 implies three digits. cust_id keeps the seed's regexp.
    Incremental: each run checks the versions ingested since the last run (the rules depend on the
    row alone, so a checked version never needs re-checking).
-#}
{{ config(materialized='incremental', on_schema_change='fail') }}
{%- set personal = "customer_type = 'Personal'" -%}
{%- set non_personal = "customer_type in ('Corporate', 'Merchant')" -%}
{%- set name_pattern = '^[a-zA-Z]+$' -%}
{%- set rules = [
    ('cust_id_format', regexp_like('cust_id', '^[A-Za-z0-9]{10}$')),
    ('modified_at_required', 'modified_at is not null'),
    ('cust_first_name_valid', "case when " ~ personal ~ " then length(cust_first_name) <= 35 and "
        ~ regexp_like('cust_first_name', name_pattern) ~ " else true end"),
    ('cust_last_name_valid', "length(cust_last_name) <= 35 and " ~ regexp_like('cust_last_name', '^[a-zA-Z]*$')),
    ('cust_middle_name_valid', "cust_middle_name is null or (length(cust_middle_name) <= 35 and "
        ~ regexp_like('cust_middle_name', '^[a-zA-Z]*$') ~ ")"),
    ('cibil_score_valid', 'cibil_score between 300 and 900'),
    ('cibil_check_date_required', 'cibil_check_date is not null'),
    ('country_code_required', 'country_code is not null'),
    ('mobile_number1_valid', 'length(mobile_number1) <= 10'),
    ('customer_addressline1_valid', 'length(customer_addressline1) <= 50'),
    ('customer_addressline2_valid', 'length(customer_addressline2) <= 50'),
    ('customer_addressline3_valid', 'length(customer_addressline3) <= 50'),
    ('city_valid', 'length(city) <= 30'),
    ('state_valid', 'length(state) <= 30'),
    ('pin_valid', 'length(pin) <= 10'),
    ('email_addr_valid', "length(email_addr) <= 50 and " ~ regexp_like('email_addr', '^[a-z0-9.]+@[a-z]+\\.[a-z]{2,3}')),
    ('cust_dob_required_for_personal', "case when " ~ personal ~ " then cust_dob is not null else true end"),
    ('no_personal_attributes_for_non_personal', "case when " ~ non_personal ~ " then cust_title is null"
        ~ " and gender is null and marital_status is null and cust_first_name is null"
        ~ " and cust_middle_name is null and minor_flag is null and senior_citizen_flag is null"
        ~ " and occupation is null else true end"),
] + contract_rules('customers', refine={
    'cust_title_allowed': "case when " ~ personal ~ " then " ~ is_allowed('cust_title')
        ~ " or (cust_title is null and gender = 'I prefer not to say') else true end",
    'gender_allowed': "case when " ~ personal ~ " then " ~ is_allowed('gender') ~ " else true end",
    'marital_status_allowed': "case when " ~ personal ~ " then " ~ is_allowed('marital_status')
        ~ " or (marital_status is null and gender = 'I prefer not to say') else true end",
    'minor_flag_allowed': "case when " ~ personal ~ " then " ~ is_allowed('minor_flag') ~ " else true end",
    'occupation_allowed': "case when " ~ personal ~ " then " ~ is_allowed('occupation') ~ " else true end",
    'senior_citizen_flag_allowed': "case when " ~ personal ~ " then " ~ is_allowed('senior_citizen_flag') ~ " else true end",
}) -%}

with

customers as (
    {{ rows_to_validate(ref('stg_landing__customers')) }}
),

checked as (
    select
        *,
        {{ with_failed_rules('_type_errors', rules) }} as failed_rules
    from customers
),

final as (
    select
        *,
        {{ list_length('failed_rules') }} = 0 as is_valid,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as _validated_at
    from checked
)

select * from final
