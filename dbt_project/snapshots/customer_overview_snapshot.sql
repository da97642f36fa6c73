{#- The SCD2 history of customer_overview_dp (config and docs: _snapshots.yml). After its first
    build the snapshot reads only the customers whose served row changed since its latest
    _validated_at: the timestamp strategy compares each source row with the current snapshot row
    of its cust_id, so customers absent from the source are left as they are, and comparing the
    day's changed customers gives the same history as comparing all 1M of them. -#}
{% snapshot customer_overview_snapshot %}

select * from {{ ref('customer_overview_dp') }}
{%- if execute and adapter.get_relation(this.database, this.schema, this.identifier) is not none %}
where _validated_at > (select max(_validated_at) from {{ this }})
{%- endif %}

{% endsnapshot %}
