{# Blank or empty text as null, surrounding blanks removed. #}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#
    An enumerated value in its allowed spelling (allowed_values), matched case-insensitively, with
    the documented aliases (value_aliases). Anything else is kept as landed (trimmed) so that the
    cleansing rule can reject it with the value visible.
#}
{% macro standardise(column, source_column=none) -%}
    {%- set expr = clean_text(source_column or column) -%}
    case lower({{ expr }})
        {%- for v in allowed_values(column) %}
        when '{{ v | lower }}' then '{{ v }}'
        {%- endfor %}
        {%- for alias, v in value_aliases(column).items() %}
        when '{{ alias }}' then '{{ v }}'
        {%- endfor %}
        else {{ expr }}
    end
{%- endmacro %}
