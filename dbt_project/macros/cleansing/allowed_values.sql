{#
    The allowed values of every enumerated column, declared once: staging maps each value to the
    spelling listed here regardless of case and surrounding blanks (plus the aliases below), and the
    cleansing rules accept exactly these values. Lists follow the seed's cleansing SQL; the other
    entities' lists follow the landing contract (include/mockgen/schema.py). `stage` is in the
    funnel's order (int_campaign_events_validated numbers the stages from it).
#}
{% macro allowed_values(column) -%}
    {%- set values = {
        'cust_segment': ['Urban', 'Rural', 'Semi-Urban'],
        'cust_title': ['Mr', 'Miss', 'Mrs', 'Mx', 'Dr'],
        'customer_category': ['Non Resident', 'Resident Indian'],
        'customer_privilege': ['Yes', 'No'],
        'customer_type': ['Personal', 'Corporate', 'Merchant'],
        'gender': ['Male', 'Female', 'Non Binary', 'Transgender', 'Intersex', 'I prefer not to say'],
        'marital_status': ['Single', 'Married', 'Widowed', 'I prefer not to say'],
        'minor_flag': ['Yes', 'No'],
        'occupation': ['Salaried', 'Non Salaried'],
        'senior_citizen_flag': ['Yes', 'No'],
        'sourcing_channel': ['Branch', 'Partner', 'Online'],
        'customer_risk_category': ['High', 'Medium', 'Low'],
        'affluence_level': ['High', 'Medium', 'Low'],
        'customer_status': ['Active', 'Dormant', 'Deceased'],
        'country': ['France', 'Italy', 'Spain', 'Germany', 'Netherlands', 'Australia', 'Brazil', 'Canada',
                    'India', 'Indonesia', 'Norway', 'Singapore', 'United States'],
        'nationality': ['Australian', 'Brazilian', 'Canadian', 'European', 'Indian', 'Indonesian',
                        'Norwegian', 'Singaporean', 'American'],
        'zone': ['North', 'South', 'East', 'West', 'Central', 'Overseas'],
        'product_type': ['Credit Card', 'Savings Account', 'Current Account', 'Fixed Deposit',
                         'Personal Loan', 'Home Loan'],
        'product_category': ['Cards', 'Deposits', 'Loans'],
        'card_network': ['Visa', 'Mastercard', 'RuPay', 'Amex'],
        'product_status': ['Active', 'Retired'],
        'account_status': ['Active', 'Dormant', 'Closed'],
        'txn_type': ['Debit', 'Credit'],
        'txn_mode': ['UPI', 'QR', 'Card', 'NetBanking', 'NEFT', 'IMPS', 'ATM', 'Cheque'],
        'channel': ['Mobile', 'Web', 'POS', 'ATM', 'Branch'],
        'txn_reason': ['Exam', 'Food & Grocery', 'Travel', 'Ecom', 'Bills & Utilities', 'Health',
                       'Entertainment', 'Fuel', 'Salary', 'Refund', 'Transfer'],
        'txn_status': ['Success', 'Failed', 'Reversed'],
        'stage': ['Customer Reached', 'Explored Product', 'Started to Apply', 'Engagement', 'Completed Application',
                  'KYC', 'Onboarded'],
        'campaign_channel': ['Email', 'SMS', 'Mobile App', 'Web', 'Branch', 'Call Centre'],
    } -%}
    {{ return(values[column]) }}
{%- endmacro %}

{#
    Spellings that staging maps to an allowed value (lower-cased key).
    D2: the seed generator writes 'Semi', its filter and dashboards say 'Semi-Urban'.
    D3: the generator writes 'I Prefer not to say', the filter expects 'I prefer not to say'
    (no alias needed: the case-insensitive match maps it to the allowed spelling).
#}
{% macro value_aliases(column) -%}
    {%- set aliases = {
        'cust_segment': {'semi': 'Semi-Urban', 'semi urban': 'Semi-Urban', 'semiurban': 'Semi-Urban'},
    } -%}
    {{ return(aliases.get(column, {})) }}
{%- endmacro %}

{# `value` is one of the allowed values of `column` (null is not). #}
{% macro is_allowed(column, value=none) -%}
    {{ value or column }} in ({% for v in allowed_values(column) %}'{{ v }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
