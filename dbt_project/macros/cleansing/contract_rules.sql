{#
    The validation rules every landing entity gets from its declaration (contract_columns), as
    (name, condition) pairs for failed_rules(), after the model's own rules:

      <column>_allowed                 every enumerated column (the declaration's `allowed`): the
                                       value is one of them (null fails, as in the seed's WHERE
                                       clause); `refine` replaces a condition, by rule name, where a
                                       rule depends on other columns (e.g. Personal-only attributes)
      <column>_within_logical_day      event times (`within_logical_day`): inside the file's logical
                                       day, +- the declared tolerance
      <column>_not_after_logical_day   every other timestamp: not after the end of the file's logical
                                       day (+ tolerance): a version stamped in the future would be
                                       served as the latest one forever
      conflicting_version              the raw history holds another content for this key and
                                       version, landed first (_conflicts_with names its file)

    Deriving them here means a new column or entity cannot be left without its rules; a `refine`
    key that names no derived rule stops the build (a typo would silently drop the refinement).
#}
{% macro contract_rules(entity, refine={}) -%}
    {%- set rules = [] -%}
    {%- set tolerance = landing_meta('logical_day_tolerance_minutes') -%}
    {%- set day_start = "cast(_landed_date as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set used = [] -%}
    {%- for c in contract_columns(entity) -%}
        {%- if c.allowed -%}
            {%- set name = c.staged ~ '_allowed' -%}
            {%- do rules.append((name, refine.get(name, is_allowed(c.staged)))) -%}
            {%- do used.append(name) -%}
        {%- endif -%}
        {%- if c.type == 'timestamp' and c.within_logical_day -%}
            {%- do rules.append((c.staged ~ '_within_logical_day',
                c.staged ~ ' is null or (' ~ c.staged ~ ' >= ' ~ dbt.dateadd('minute', -tolerance, day_start)
                ~ ' and ' ~ c.staged ~ ' < ' ~ dbt.dateadd('minute', 1440 + tolerance, day_start) ~ ')')) -%}
        {%- elif c.type == 'timestamp' -%}
            {%- do rules.append((c.staged ~ '_not_after_logical_day',
                c.staged ~ ' is null or ' ~ c.staged ~ ' < ' ~ dbt.dateadd('minute', 1440 + tolerance, day_start))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in refine if name not in used -%}
        {{ exceptions.raise_compiler_error("contract_rules(" ~ entity ~ "): refine names " ~ name
            ~ ", which is not a rule derived from the declaration") }}
    {%- endfor -%}
    {%- do rules.append(('conflicting_version', '_conflicts_with is null')) -%}
    {{ return(rules) }}
{%- endmacro %}
