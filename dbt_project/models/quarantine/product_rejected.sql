{{ quarantine('product_raw', 'int_products_validated', 'products') }}
