{{ quarantine('customer_overview_raw', 'int_customers_validated', 'customers') }}
