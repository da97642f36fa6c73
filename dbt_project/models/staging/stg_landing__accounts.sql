{#- Staging of account versions, derived from the landing contract (macros/cleansing/stage_landing.sql);
    currency codes are upper-cased (the rule currency_code_valid then checks three letters). -#}
{{ stage_landing('account_raw', 'accounts', expressions={'currency_code': 'upper(' ~ clean_text('currency_code') ~ ')'}) }}
