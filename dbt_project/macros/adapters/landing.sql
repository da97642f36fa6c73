{#
    Reading the landing container. DuckDB reads the CSV part files itself (read_csv through the
    abfs filesystem registered in profiles.yml) and lists them with the fsdp_blob plugin, so an
    incremental run reads only files it has not ingested before. Trino reads the Hive external
    table behind source('landing', <entity>) and uses its hidden "$path" column instead.
#}

{# The landed CSV files of `entity` as a list of {'path', 'version'} dicts; [] when none. #}
{% macro landed_files(entity) -%}
    {{ return(adapter.dispatch('landed_files', 'fsdp')(entity)) }}
{%- endmacro %}

{% macro default__landed_files(entity) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro duckdb__landed_files(entity) -%}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- set pattern = var('landing_root') ~ '/' ~ entity ~ '/*/*.csv' -%}
        {%- set listing = run_query("select fsdp_list_files('" ~ pattern ~ "')").columns[0].values()[0] -%}
        {%- for line in (listing or '').split('\n') if line -%}
            {%- set parts = line.split('\t') -%}
            {%- do files.append({'path': parts[0], 'version': parts[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(files) }}
{%- endmacro %}

{#
    Select the landed rows of `entity` from `files` (DuckDB) as text columns `columns` plus
    _source_file, _source_file_version and _landed_date (the dt folder, still text).
    Every column is read as text with no type inference, so a malformed value is kept for the
    quarantine instead of failing the read; short lines are padded with nulls.
#}
{% macro read_landing(entity, files, columns) -%}
    {{ return(adapter.dispatch('read_landing', 'fsdp')(entity, files, columns)) }}
{%- endmacro %}

{% macro default__read_landing(entity, files, columns) -%}
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        "$path" as _source_file,
        cast("$file_modified_time" as varchar) as _source_file_version,
        cast(dt as varchar) as _landed_date
    from {{ source('landing', entity) }}
{%- endmacro %}

{% macro duckdb__read_landing(entity, files, columns) -%}
    select
        {%- for column in columns %}
        landed.{{ adapter.quote(column) }},
        {%- endfor %}
        landed.filename as _source_file,
        file_versions.version as _source_file_version,
        landed.dt as _landed_date
    from read_csv(
        [{%- for f in files %}'{{ f.path }}'{{ ", " if not loop.last }}{% endfor -%}],
        columns = { {%- for column in columns %}'{{ column }}': 'VARCHAR'{{ ", " if not loop.last }}{% endfor -%} },
        header = true,
        auto_detect = false,
        delim = ',',
        quote = '"',
        escape = '"',
        null_padding = true,
        filename = true,
        hive_partitioning = true,
        hive_types_autocast = false
    ) as landed
    inner join (
        values
        {%- for f in files %}
        ('{{ f.path }}', '{{ f.version }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as file_versions (path, version)
        on landed.filename = file_versions.path
{%- endmacro %}
