{#
    Every quarantined row names at least one failed rule: a row in a *_rejected table with an empty
    failed_rules list would be a rejection without a reason.
#}
{% test has_failed_rules(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is null
   or {{ list_length(column_name) }} = 0

{% endtest %}
