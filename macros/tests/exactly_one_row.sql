{#- Fails unless the model holds exactly one row (settings and snapshot
    tables that every line is joined to). -#}
{% test exactly_one_row(model) %}
select row_count
from (select count(*) as row_count from {{ model }}) as counted
where row_count != 1
{% endtest %}
