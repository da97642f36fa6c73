{{ config(pre_hook="{{ quarantine_release('int_products_validated') }}") }}
{{ quarantine('product_raw', 'int_products_validated', 'products') }}
