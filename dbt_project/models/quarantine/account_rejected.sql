{#- Incremental like the other quarantines (macros/quarantine.sql): int_accounts_validated re-checks rejected accounts, so a quarantined account can later be accepted (its customer landed after it) and then leaves. -#}
{{ config(pre_hook="{{ quarantine_release('int_accounts_validated') }}") }}
{{ quarantine('account_raw', 'int_accounts_validated', 'accounts') }}
