{#
    Reading the landing container. On DuckDB the fsdp_blob plugin (plugins/fsdp_blob.py, logic in
    include/ledger) lists every blob, inspects each new file against the landing contract and its
    folder's manifest, and writes the rows of every accepted part to a local spool Parquet file; the
    raw models read the spool files, so every row in the warehouse comes from bytes the landing
    ledger checked, with its position in the file. No file name is ever written into SQL unescaped:
    the listing and the inspection pass through JSON values, spool paths through sql_string().

    Trino has no equivalent of the plugin (file bytes, sha256, manifests): the default__ variants
    stop the build with that explanation rather than ingest files no one checked.
#}

{% macro _needs_duckdb(what) -%}
    {{ exceptions.raise_compiler_error(what ~ " needs the DuckDB target's fsdp_blob plugin (file inspection "
        ~ "and spooling, include/ledger); on Trino register landing files with a job of your own first") }}
{%- endmacro %}

{# Every blob of the landing container with its path's classification (one row per blob). #}
{% macro landing_listing() -%}
    {{ return(adapter.dispatch('landing_listing', 'fsdp')()) }}
{%- endmacro %}

{% macro default__landing_listing() -%}
    {{ return(_needs_duckdb('landing_listing')) }}
{%- endmacro %}

{% macro duckdb__landing_listing() -%}
    select unnest(
        from_json(
            fsdp_landing_listing({{ sql_string(var('landing_root')) }}, {{ sql_string(tojson(landing_contracts())) }}),
            '[{"file": "VARCHAR", "path": "VARCHAR", "version": "VARCHAR", "size": "BIGINT", "entity": "VARCHAR",
               "folder": "VARCHAR", "landed_date": "DATE", "kind": "VARCHAR", "manifest_path": "VARCHAR"}]'
        ),
        recursive := true
    )
{%- endmacro %}

{#
    The registrations of the files in relation `requests` (columns path, version), given `listing`
    (every blob: path): one row per file, the columns of include/ledger/inspect.py's Inspection.
#}
{% macro inspect_landing(requests, listing) -%}
    {{ return(adapter.dispatch('inspect_landing', 'fsdp')(requests, listing)) }}
{%- endmacro %}

{% macro default__inspect_landing(requests, listing) -%}
    {{ return(_needs_duckdb('inspect_landing')) }}
{%- endmacro %}

{% macro duckdb__inspect_landing(requests, listing) -%}
    select unnest(
        from_json(
            fsdp_inspect_landing(
                {{ sql_string(var('landing_root')) }},
                (select to_json(list({'path': path, 'version': version} order by path)) from {{ requests }}),
                {{ sql_string(tojson(landing_contracts())) }},
                (select to_json(list(path order by path)) from {{ listing }})
            ),
            '[{"file": "VARCHAR", "path": "VARCHAR", "file_version": "VARCHAR", "entity": "VARCHAR",
               "folder": "VARCHAR", "landed_date": "DATE", "kind": "VARCHAR", "size_bytes": "BIGINT",
               "sha256": "VARCHAR", "header": "VARCHAR", "rows": "BIGINT", "outcome": "VARCHAR",
               "reason": "VARCHAR", "detail": "VARCHAR", "notes": "VARCHAR", "manifest_file": "VARCHAR",
               "manifest_version": "VARCHAR", "manifest_rows": "BIGINT", "manifest_sha256": "VARCHAR",
               "has_control_characters": "BOOLEAN", "spool": "VARCHAR"}]'
        ),
        recursive := true
    )
{%- endmacro %}

{#
    The local spool Parquet paths of the accepted file versions selected by `files_sql` (columns
    file, file_version, sha256), re-created from storage where missing; a list of strings.
#}
{% macro spool_paths(files_sql) -%}
    {{ return(adapter.dispatch('spool_paths', 'fsdp')(files_sql)) }}
{%- endmacro %}

{% macro default__spool_paths(files_sql) -%}
    {{ return(_needs_duckdb('spool_paths')) }}
{%- endmacro %}

{% macro duckdb__spool_paths(files_sql) -%}
    {%- set paths = [] -%}
    {%- if execute -%}
        {%- set query -%}
            select fsdp_spool_path({{ sql_string(var('landing_root')) }}, file, file_version, sha256,
                                   {{ sql_string(tojson(landing_contracts())) }}) as spool
            from ({{ files_sql }}) as files
            order by file, file_version
        {%- endset -%}
        {%- for row in run_query(query) -%}
            {%- do paths.append(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(paths) }}
{%- endmacro %}

{#
    The spooled rows of `paths` as landed: the contract `columns` (text), _has_control_characters,
    the file's _source_file, _source_file_version, _landed_date, _landing_entity and _source_row
    (1 = the first row after the header).
#}
{% macro read_spool(paths, columns) -%}
    {{ return(adapter.dispatch('read_spool', 'fsdp')(paths, columns)) }}
{%- endmacro %}

{% macro default__read_spool(paths, columns) -%}
    {{ return(_needs_duckdb('read_spool')) }}
{%- endmacro %}

{% macro duckdb__read_spool(paths, columns) -%}
    select
        {%- for column in columns %}
        spooled.{{ adapter.quote(column) }},
        {%- endfor %}
        spooled._has_control_characters,
        spooled._landing_entity,
        spooled._source_file,
        spooled._source_file_version,
        spooled.file_row_number + 1 as _source_row,
        spooled._landed_date
    from read_parquet(
        [{%- for p in paths %}{{ sql_string(p) }}{{ ", " if not loop.last }}{% endfor -%}],
        file_row_number = true
    ) as spooled
{%- endmacro %}

{# Delete the spool files of the file versions in relation `files` (columns file, file_version). #}
{% macro release_spools(files_sql) -%}
    {{ return(adapter.dispatch('release_spools', 'fsdp')(files_sql)) }}
{%- endmacro %}

{% macro default__release_spools(files_sql) -%}
    select 1
{%- endmacro %}

{% macro duckdb__release_spools(files_sql) -%}
    select fsdp_spool_release(
        (select to_json(list({'file': file, 'version': file_version})) from ({{ files_sql }}) as released)
    )
{%- endmacro %}
