{#- Staging of customer versions, derived from the landing contract (macros/cleansing/stage_landing.sql):
    renames (D8: customer_privelege -> customer_privilege, afflunce_level -> affluence_level,
    declared in include/mockgen/schema.py), strict types, standardised enumerations (D2, 3).
    No business rules here: those are in int_customers_validated. -#}
{{ stage_landing('customer_overview_raw', 'customers') }}
