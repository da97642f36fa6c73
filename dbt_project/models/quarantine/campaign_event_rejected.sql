{#- Incremental like the other quarantines (macros/quarantine.sql): int_campaign_events_validated re-checks
    rejected events, so a quarantined event can later be accepted (its customer or its earlier
    stage landed after it) and then leaves. -#}
{{ config(pre_hook="{{ quarantine_release('int_campaign_events_validated') }}") }}
{{ quarantine('campaign_event_raw', 'int_campaign_events_validated', 'campaign_events') }}
