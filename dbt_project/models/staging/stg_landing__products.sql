{#- Staging of product versions, derived from the landing contract (macros/cleansing/stage_landing.sql). -#}
{{ stage_landing('product_raw', 'products') }}
