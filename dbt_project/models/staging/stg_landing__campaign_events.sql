{#- Staging of campaign events, derived from the landing contract (macros/cleansing/stage_landing.sql).
    The landing column `channel` is staged as campaign_channel (declared in include/mockgen/schema.py):
    its allowed values are contact channels, not the transactions' channels, and the allowed values
    are keyed by staged name. -#}
{{ stage_landing('campaign_event_raw', 'campaign_events') }}
