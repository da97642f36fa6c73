{#
    The output port: a data product table as Parquet under var('curated_root')/<table name>/
    (blob container `curated` by default), hive-partitioned by `partition_by` like the seed's
    Iceberg table (customer_overview_dp: country, state). Used as a model post-hook.

    DuckDB writes through the abfs filesystem registered in profiles.yml. COPY ... (OVERWRITE) fails
    on fsspec filesystems in DuckDB 1.0, so a rewrite first clears the folder with the fsdp_blob
    plugin's fsdp_prepare_output() (which also creates a missing container) and then writes with
    OVERWRITE_OR_IGNORE. Every file is named after the dbt run (part-<invocation_id>-N.parquet) and
    the hook reads the row count of the run's files back: adlfs can swallow an upload error, so the
    export fails loudly when the files do not hold the rows written.

    Tables with `append_column` (incremental tables: the run that published each row) append the
    rows of the current run as new files; when every row belongs to the current run (first build,
    --full-refresh) the folder is rewritten instead.
#}
{% macro export_to_curated(partition_by=[], append_column=none) -%}
    {{ return(adapter.dispatch('export_to_curated', 'fsdp')(partition_by, append_column)) }}
{%- endmacro %}

{% macro default__export_to_curated(partition_by, append_column) -%}
    {#- Trino: the curated tables are the Iceberg/Hive tables themselves (partitioned_by in the
        model config); there is no separate file export. -#}
    select 1
{%- endmacro %}

{% macro duckdb__export_to_curated(partition_by, append_column) -%}
    {%- if execute and var('export_curated') | string | lower in ['true', '1', 'yes'] -%}
        {%- set target_url = var('curated_root') ~ '/' ~ this.identifier -%}
        {%- set rows_filter = '1 = 1' -%}
        {%- set rewrite = true -%}
        {%- if append_column -%}
            {%- set counts = run_query("select count(*), count(*) filter (where " ~ append_column ~ " = '"
                ~ invocation_id ~ "') from " ~ this).rows[0] -%}
            {%- if counts[0] != counts[1] -%}
                {%- set rows_filter = append_column ~ " = '" ~ invocation_id ~ "'" -%}
                {%- set rewrite = false -%}
            {%- endif -%}
        {%- endif -%}
        {%- set expected = run_query("select count(*) from " ~ this ~ " where " ~ rows_filter).rows[0][0] -%}
        {%- do run_query("select fsdp_prepare_output('" ~ target_url ~ "', " ~ rewrite ~ ")") -%}
        {%- if expected > 0 -%}
            {%- set excluded = [append_column] if append_column else [] -%}
            {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | reject('in', excluded) | list -%}
            {%- set copy_sql -%}
                copy (
                    select {% for c in columns %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}
                    from {{ this }}
                    where {{ rows_filter }}
                ) to '{{ target_url if partition_by else target_url ~ "/part-" ~ invocation_id ~ "-0.parquet" }}' (
                    format parquet,
                    compression zstd
                    {%- if partition_by %},
                    partition_by ({{ partition_by | join(', ') }}),
                    overwrite_or_ignore true,
                    filename_pattern 'part-{{ invocation_id }}-{i}'
                    {%- endif %}
                )
            {%- endset -%}
            {%- do run_query(copy_sql) -%}
            {%- set pattern = target_url ~ ('/**' if partition_by else '') ~ '/part-' ~ invocation_id ~ '-*.parquet' -%}
            {%- set written = run_query("select count(*) from read_parquet('" ~ pattern ~ "')").rows[0][0] -%}
            {%- if written != expected -%}
                {{ exceptions.raise_compiler_error("Export of " ~ this ~ " to " ~ target_url ~ " wrote " ~ written
                    ~ " rows, expected " ~ expected) }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
