{{ quarantine('account_raw', 'int_accounts_validated', 'accounts') }}
