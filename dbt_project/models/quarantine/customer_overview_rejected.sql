{{ config(pre_hook="{{ quarantine_release('int_customers_validated') }}") }}
{{ quarantine('customer_overview_raw', 'int_customers_validated', 'customers') }}
