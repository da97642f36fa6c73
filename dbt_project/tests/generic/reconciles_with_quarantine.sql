{#
    raw = accepted + rejected: every row of the raw history (`model`) is checked exactly once
    (`validated` has as many rows as the raw history) and ends up either accepted (is_valid) or in
    the quarantine (`rejected`). Catches a cleansing step that drops or duplicates rows (a fan-out
    join, a filter in staging), or a quarantine that misses rejected rows. Returns one row with the
    four counts when they do not reconcile.
#}
{% test reconciles_with_quarantine(model, validated, rejected) %}

with

raw_rows as (
    select count(*) as raw_count from {{ model }}
),

checked as (
    select
        count(*) as validated_count,
        sum(case when is_valid then 1 else 0 end) as accepted_count
    from {{ validated }}
),

quarantined as (
    select count(*) as rejected_count from {{ rejected }}
),

final as (
    select
        raw_rows.raw_count,
        checked.validated_count,
        coalesce(checked.accepted_count, 0) as accepted_count,
        quarantined.rejected_count
    from raw_rows
    cross join checked
    cross join quarantined
)

select * from final
where raw_count <> validated_count
   or raw_count <> accepted_count + rejected_count

{% endtest %}
