{#- A table like the other quarantines (rebuilt on every run): int_campaign_events_validated re-checks
    rejected events, so a quarantined event can later be accepted (its customer or its earlier
    stage landed after it) and must then leave. -#}
{{ quarantine('campaign_event_raw', 'int_campaign_events_validated', 'campaign_events') }}
