{#
    The output port: a data product table as Parquet under var('curated_root')/<table name>/
    (blob container `curated` by default), hive-partitioned by `partition_by` like the seed's
    Iceberg table (customer_overview_dp: country, state). Used as a model post-hook.

    DuckDB writes the Parquet files to a local temporary folder (its native partitioned COPY), then
    the fsdp_blob plugin's fsdp_publish_tree() uploads them concurrently through adlfs, clearing the
    target folder first on a rewrite, and checks every uploaded size (see plugins/fsdp_blob.py for
    why not COPY straight to abfs://). Every file is named after the dbt run
    (part-<invocation_id>-N.parquet).

    `run_column` names the column holding the dbt invocation that wrote each row
    (_published_run_id). Rows of the current run decide what is exported:
      * none (the run changed nothing, e.g. no account changed today): nothing is written, the
        files of the previous run stay as they are;
      * all of them (first build, --full-refresh): the folder is rewritten;
      * some: with `append` (transaction_dp, immutable rows) the current run's rows are added as new
        files; otherwise (delete+insert tables, whose replaced rows live in old files) the folder is
        rewritten.
    The hook runs inside the model's transaction, so a failed export rolls the model back and the
    next run exports again.
#}
{% macro export_to_curated(partition_by=[], run_column='_published_run_id', append=false) -%}
    {{ return(adapter.dispatch('export_to_curated', 'fsdp')(partition_by, run_column, append)) }}
{%- endmacro %}

{% macro default__export_to_curated(partition_by, run_column, append) -%}
    {#- Trino: the curated tables are the Iceberg/Hive tables themselves (partitioned_by in the
        model config); there is no separate file export. -#}
    select 1
{%- endmacro %}

{% macro duckdb__export_to_curated(partition_by, run_column, append) -%}
    {%- if execute and var('export_curated') | string | lower in ['true', '1', 'yes'] -%}
        {%- set target_url = var('curated_root') ~ '/' ~ this.identifier -%}
        {%- set counts = run_query("select count(*), count(*) filter (where " ~ run_column ~ " = '"
            ~ invocation_id ~ "') from " ~ this).rows[0] -%}
        {%- set rows_filter = '1 = 1' -%}
        {%- set rewrite = true -%}
        {%- if counts[1] == 0 and counts[0] > 0 -%}
            {{ log("curated/" ~ this.identifier ~ ": unchanged by this run, not exported", info=false) }}
            {{ return("select 1") }}
        {%- elif append and counts[0] != counts[1] -%}
            {%- set rows_filter = run_column ~ " = '" ~ invocation_id ~ "'" -%}
            {%- set rewrite = false -%}
        {%- endif -%}
        {%- set local_dir = run_query("select fsdp_temp_dir()").rows[0][0] -%}
        {%- set excluded = [run_column] -%}
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
