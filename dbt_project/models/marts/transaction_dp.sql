{#- Transactions are immutable: one row per txn_id. No ranking is needed: transaction_raw keeps the
    first landing of each txn_id (its _record_id) and staging does not trim ids (a padded id fails
    txn_id_format), so accepted txn_ids are unique; the not-exists guard keeps a re-check from
    publishing a transaction twice. Incremental: appends the transactions validated (accepted)
    since the last run, including re-checked ones; the output port (include/output_port) publishes
    the table partitioned by txn_date after the quality gate. The guard probes the published
    history only within the run's smallest and largest txn_id (value_range), a constant range
    that DuckDB's zone maps skip row groups on; on a day with nothing accepted (an empty range) the
    probe is left out, as DuckDB would otherwise build the history's hash table for no row. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail'
) }}

{%- set accepted = 'is_valid and ' ~ ingested_after_watermark('_validated_at') %}
{%- set bounds = value_range(ref('int_transactions_validated'), 'txn_id', accepted) if is_incremental() else none %}

with

validated as (
    select * from {{ ref('int_transactions_validated') }}
    where {{ accepted }}
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
    from validated
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as published
        where published.txn_id = validated.txn_id
        {%- if bounds %}
          and published.txn_id between {{ bounds[0] }} and {{ bounds[1] }}
        {%- elif bounds is not none %}
          and false
        {%- endif %}
    )
    {%- endif %}
)

select * from final
