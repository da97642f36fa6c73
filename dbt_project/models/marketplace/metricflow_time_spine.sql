{#- The semantic layer's time spine (MetricFlow): one row per day from 2010-01-01 (before any
    customer's created_at the generator makes) to the latest day the product holds (its latest
    transaction or customer version). Bounded by the data, not by the calendar: a cumulative metric
    is reported for every spine day, so a spine running into the future would report flat totals
    for days that have not happened. dbt's cross-database date_spine keeps it portable. -#}
{{ config(materialized='table') }}

with

days as (
    {{ dbt.date_spine('day', "cast('2010-01-01' as date)", "cast('2041-01-01' as date)") }}
),

latest as (
    select max(latest_day) as latest_day
    from (
        select max(txn_date) as latest_day from {{ ref('transaction_dp') }}
        union all
        select max(cast(modified_at as date)) from {{ ref('customer_overview_dp') }}
    ) as days_with_data
),

final as (
    select cast(days.date_day as date) as date_day
    from days
    cross join latest
    where cast(days.date_day as date) <= coalesce(latest.latest_day, cast('2010-01-01' as date))
)

select * from final
