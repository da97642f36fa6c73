{#- The campaign funnel: one row per campaign, zone, cross-sell archetype and stage (campaign_id,
    zone, cross_sell_archetype, stage), for every group with at least one customer reached: the
    customers whose journey reached the stage (campaign_event_dp holds each journey's stages once,
    in order, so a stage's customers are a subset of the previous stage's), the conversion from the
    previous stage and from Customer Reached. Every stage has a row, 0 when nobody reached it.
    Archetype and zone are the customer's current ones (marketplace.customers); zone is on every
    row so a dashboard restricted to a zone (row-level security) reads only its rows. -#}
{{ config(materialized='table') }}

with

events as (
    select campaign_id, campaign_name, cust_id, stage_order from {{ ref('campaign_event_dp') }}
),

customers as (
    select cust_id, zone, cross_sell_archetype from {{ ref('customers') }}
),

stages as (
    {%- for stage in allowed_values('stage') %}
    select '{{ stage }}' as stage, {{ loop.index }} as stage_order
    {{- " union all" if not loop.last }}
    {%- endfor %}
),

reached as (
    select
        events.campaign_id,
        events.campaign_name,
        customers.zone,
        customers.cross_sell_archetype,
        events.stage_order,
        count(*) as customers
    from events
    inner join customers
        on events.cust_id = customers.cust_id
    group by 1, 2, 3, 4, 5
),

groups as (
    select distinct campaign_id, campaign_name, zone, cross_sell_archetype
    from reached
    where stage_order = 1
),

counted as (
    select
        groups.campaign_id,
        groups.campaign_name,
        groups.zone,
        groups.cross_sell_archetype,
        stages.stage,
        stages.stage_order,
        coalesce(reached.customers, 0) as customers
    from groups
    cross join stages
    left join reached
        on reached.campaign_id = groups.campaign_id
        and reached.zone = groups.zone
        and reached.cross_sell_archetype = groups.cross_sell_archetype
        and reached.stage_order = stages.stage_order
),

final as (
    select
        campaign_id,
        campaign_name,
        zone,
        cross_sell_archetype,
        stage,
        stage_order,
        customers,
        lag(customers) over funnel as customers_at_previous_stage,
        first_value(customers) over funnel as customers_reached,
        cast(customers as double) / nullif(lag(customers) over funnel, 0) as conversion_from_previous_stage,
        cast(customers as double) / nullif(first_value(customers) over funnel, 0) as conversion_from_reached
    from counted
    window funnel as (partition by campaign_id, zone, cross_sell_archetype order by stage_order)
)

select * from final
