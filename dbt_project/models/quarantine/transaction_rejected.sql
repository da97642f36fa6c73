{#- Incremental like the other quarantines (macros/quarantine.sql): int_transactions_validated re-checks
    rejected transactions, so a quarantined row can later be accepted (its account landed after it) and then leaves. -#}
{{ config(pre_hook="{{ quarantine_release('int_transactions_validated') }}") }}
{{ quarantine('transaction_raw', 'int_transactions_validated', 'transactions') }}
