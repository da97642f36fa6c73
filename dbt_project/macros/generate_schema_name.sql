{#
    Custom schemas are used verbatim: `schema: fs_accelerator` builds in fs_accelerator (the seed's
    schema, icebasetw.fs_accelerator), not dbt's default <target_schema>_fs_accelerator.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
