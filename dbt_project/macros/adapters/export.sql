{#
    The output port: a data product table as Parquet under var('curated_root')/<table name>/
    (blob container `curated` by default), hive-partitioned by `partition_by` like the seed's
    Iceberg table (customer_overview_dp: country, state). Used as a model post-hook.

    DuckDB writes the Parquet files to a local temporary folder (its native partitioned COPY), then
    the fsdp_blob plugin's fsdp_publish_tree() uploads them concurrently through adlfs, clearing the
    target folder first on a rewrite, and checks every uploaded size (see plugins/fsdp_blob.py for
    why not COPY straight to abfs://). Every file is named after the dbt run
    (part-<invocation_id>-N.parquet).

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
        {%- set local_dir = run_query("select fsdp_temp_dir()").rows[0][0] -%}
        {%- set excluded = [append_column] if append_column else [] -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | reject('in', excluded) | list -%}
        {%- set copy_sql -%}
            copy (
                select {% for c in columns %}{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}
                from {{ this }}
                where {{ rows_filter }}
            ) to '{{ local_dir if partition_by else local_dir ~ "/part-" ~ invocation_id ~ "-0.parquet" }}' (
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
        {%- do run_query("select fsdp_publish_tree('" ~ local_dir ~ "', '" ~ target_url ~ "', " ~ rewrite ~ ")") -%}
    {%- endif -%}
    select 1
{%- endmacro %}
