{#- Transactions are immutable: one row per txn_id, the first valid landing of it (a later landing
    of the same txn_id adds nothing). Incremental: appends the transactions validated (accepted)
    since the last run, including re-checked ones; the output port appends them as new Parquet
    files partitioned by txn_date. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    post_hook=["{{ export_to_curated(partition_by=['txn_date'], append_column='_published_run_id') }}"]
) }}

with

validated as (
    select * from {{ ref('int_transactions_validated') }}
    where is_valid
      and {{ ingested_after_watermark('_validated_at') }}
),

first_landing as (
    select
        *,
        row_number() over (
            partition by txn_id
            order by _landed_date, _source_file, _record_id
        ) as _landing_rank
    from validated
),

final as (
    select
        txn_id,
        account_id,
        txn_ts,
        cast(txn_ts as date) as txn_date,
        amount,
        currency_code,
        txn_type,
        txn_mode,
        channel,
        txn_reason,
        merchant_name,
        txn_status,
        _source_file,
        _landed_date,
        _ingested_at,
        _validated_at,
        '{{ invocation_id }}' as _published_run_id
    from first_landing
    where _landing_rank = 1
    {%- if is_incremental() %}
      and not exists (
          select 1 from {{ this }} as published
          where published.txn_id = first_landing.txn_id
      )
    {%- endif %}
)

select * from final
