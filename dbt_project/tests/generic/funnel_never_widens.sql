{#
    A funnel row that breaks the funnel's shape: a group with two rows for a stage, a stage with more
    customers than the stage before it, or a group whose stages do not add up to the campaign
    events it was built from (every accepted event is one customer reaching one stage).
#}
{% test funnel_never_widens(model) %}

with

duplicated as (
    select campaign_id, zone, cross_sell_archetype, stage
    from {{ model }}
    group by campaign_id, zone, cross_sell_archetype, stage
    having count(*) > 1
),

widening as (
    select campaign_id, zone, cross_sell_archetype, stage
    from {{ model }}
    where customers > customers_at_previous_stage
),

totals as (
    select count(*) as events from {{ ref('campaign_event_dp') }}
),

counted as (
    select coalesce(sum(customers), 0) as customers from {{ model }}
),

mismatch as (
    select 'total' as campaign_id, cast(null as varchar) as zone, cast(null as varchar) as cross_sell_archetype,
        cast(null as varchar) as stage
    from totals
    cross join counted
    where totals.events <> counted.customers
)

select * from duplicated
union all
select * from widening
union all
select * from mismatch

{% endtest %}
