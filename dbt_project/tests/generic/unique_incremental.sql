{#
    `unique` for a large incremental table, at the cost of the latest batch instead of the whole
    table: every key of the latest batch (the rows whose `batch_column`, e.g. _ingested_at, holds
    the table's greatest value: the rows the latest run added) appears once in the whole table.
    Returns the duplicated keys with their counts, like `unique`.

    A full build writes every row with one batch value, so there it is exactly `unique`; after an
    incremental run it checks the run's keys against the history with a semi-join (a hash table of
    one day's keys probed by the history's keys) instead of grouping the whole history. Run after
    every build, it keeps the table unique by induction. The hole: a failed batch that is left as it
    is goes unchecked by the next days' runs. Two things close it: the Soda gate counts duplicates
    over the whole served table on every run (include/quality/checks/transaction_dp.yml), and
    `--vars '{test_whole_tables: true}'` turns this test back into `unique` over every row.

    The whole-table probe is bounded by the latest batch's smallest and largest key (value_range):
    a key outside that range cannot equal one of the batch's keys, and the constant range lets
    DuckDB skip the row groups outside it instead of reading the whole key column.
#}
{% test unique_incremental(model, column_name, batch_column) %}

{%- set bounds = value_range(model, column_name, column_name ~ ' is not null and ' ~ latest_batch(batch_column, model)) %}

with

latest_batch as (
    select {{ column_name }} as unique_field
    from {{ model }}
    where {{ column_name }} is not null
      and {{ latest_batch(batch_column, model) }}
),

final as (
    select
        {{ column_name }} as unique_field,
        count(*) as n_records
    from {{ model }}
    where {{ column_name }} in (select unique_field from latest_batch)
    {%- if bounds %}
      and {{ column_name }} between {{ bounds[0] }} and {{ bounds[1] }}
    {%- endif %}
    group by {{ column_name }}
    having count(*) > 1
)

select * from final

{% endtest %}
