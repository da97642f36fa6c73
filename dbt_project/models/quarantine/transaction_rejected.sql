{#- A table like the other quarantines (rebuilt on every run): int_transactions_validated re-checks
    rejected transactions, so a quarantined row can later be accepted and must then leave. -#}
{{ quarantine('transaction_raw', 'int_transactions_validated', 'transactions') }}
