{#- Cleansing rules for campaign events. Row rules as for the other entities (known customer and
    product, stage in the allowed set, timestamp inside the logical day of the file it landed in),
    then two journey rules over the events of the same customer and campaign, judged for the rows
    that pass every row rule:
      stage_not_repeated  a journey reaches each stage once: an event for a stage the journey
                          already has (accepted before, or earlier in the same batch by stage_ts,
                          then event_id) is rejected;
      stages_in_order     every earlier stage of the journey is present (accepted before, or in
                          the batch and itself in order) with a stage_ts not after this one.
    Incremental like int_transactions_validated: new events are checked and rejected ones
    re-checked, so an event that landed before its customer, or before its earlier stage was
    accepted, is accepted once they are. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='_record_id',
    incremental_predicates=['not is_valid'],
    on_schema_change='fail'
) }}
{%- set stages = allowed_values('stage') -%}
{%- set rules = [
    ('event_id_format', regexp_like('event_id', '^E[0-9]{18}$')),
    ('campaign_id_format', regexp_like('campaign_id', '^[A-Z0-9][A-Z0-9-]{2,31}$')),
    ('campaign_name_valid', 'campaign_name is not null and length(campaign_name) <= 100'),
    ('stage_ts_required', 'stage_ts is not null'),
    ('cust_id_known', 'customer_is_known'),
    ('product_id_known', 'product_is_known'),
] + contract_rules('campaign_events') -%}

with

events as (
    {{ rows_to_validate(ref('stg_landing__campaign_events'), recheck_rejected=true) }}
),

customers as (
    select cust_id from {{ ref('customer_overview_dp') }}
),

products as (
    select product_id from {{ ref('product_dp') }}
),

joined as (
    select
        events.*,
        case events.stage
            {%- for stage in stages %}
            when '{{ stage }}' then {{ loop.index }}
            {%- endfor %}
        end as stage_order,
        customers.cust_id is not null as customer_is_known,
        products.product_id is not null as product_is_known
    from events
    left join customers
        on events.cust_id = customers.cust_id
    left join products
        on events.product_id = products.product_id
),

row_checked as (
    select
        *,
        {{ with_failed_rules('_type_errors', rules) }} as row_failed_rules
    from joined
),

{#- the journeys the batch touches: their events accepted before (held here) and the batch's
    events that pass every row rule -#}
journey_events as (
    select _record_id, campaign_id, cust_id, stage_order, stage_ts, event_id, true as in_batch
    from row_checked
    where {{ list_length('row_failed_rules') }} = 0
    {%- if is_incremental() %}
    union all
    select held._record_id, held.campaign_id, held.cust_id, held.stage_order, held.stage_ts, held.event_id,
        false as in_batch
    from {{ this }} as held
    where held.is_valid
      and exists (
          select 1 from row_checked
          where row_checked.campaign_id = held.campaign_id and row_checked.cust_id = held.cust_id
      )
    {%- endif %}
),

first_of_stage as (
    select
        *,
        row_number() over (
            partition by campaign_id, cust_id, stage_order
            order by in_batch, stage_ts, event_id
        ) = 1 as stage_is_new
    from journey_events
),

{#- over each journey's first events per stage, in stage order: no stage missing before this one
    (the count of stages up to here equals the stage's number) and no step back in time -#}
ordered as (
    select
        *,
        count(*) over journey = stage_order as no_stage_missing,
        coalesce(stage_ts >= lag(stage_ts) over journey_steps, true) as step_forward
    from first_of_stage
    where stage_is_new
    window journey as (partition by campaign_id, cust_id order by stage_order
                       rows between unbounded preceding and current row),
           journey_steps as (partition by campaign_id, cust_id order by stage_order)
),

in_order as (
    select
        _record_id,
        min(case when no_stage_missing and step_forward then 1 else 0 end) over (
            partition by campaign_id, cust_id order by stage_order
            rows between unbounded preceding and current row
        ) = 1 as stage_in_order
    from ordered
),

checked as (
    select
        row_checked._record_id,
        row_checked.event_id,
        row_checked.cust_id,
        row_checked.campaign_id,
        row_checked.campaign_name,
        row_checked.product_id,
        row_checked.stage,
        row_checked.stage_order,
        row_checked.stage_ts,
        row_checked.campaign_channel,
        row_checked._type_errors,
        row_checked._conflicts_with,
        row_checked._landing_entity,
        row_checked._source_file,
        row_checked._source_row,
        row_checked._landed_date,
        row_checked._ingested_at,
        row_checked.customer_is_known,
        row_checked.product_is_known,
        first_of_stage.stage_is_new,
        in_order.stage_in_order,
        {{ with_failed_rules('row_checked.row_failed_rules', [
            ('stage_not_repeated', 'coalesce(first_of_stage.stage_is_new, true)'),
            ('stages_in_order', 'coalesce(in_order.stage_in_order, first_of_stage.stage_is_new is not true)'),
        ]) }} as failed_rules
    from row_checked
    left join first_of_stage
        on first_of_stage._record_id = row_checked._record_id and first_of_stage.in_batch
    left join in_order
        on in_order._record_id = row_checked._record_id
),

final as (
    select
        *,
        {{ list_length('failed_rules') }} = 0 as is_valid,
        cast({{ dbt.current_timestamp() }} as {{ dbt.type_timestamp() }}) as _validated_at
    from checked
)

select * from final
