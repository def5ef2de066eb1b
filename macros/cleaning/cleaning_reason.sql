{#- The reason code of a line: the first rule in var('cleaning_rule_precedence')
    whose flag column is_<reason_code> is true. `valid_purchase` has no flag:
    it is what remains. `exclude` leaves rules out, e.g. the outlier rules while
    their thresholds are being computed. -#}
{% macro cleaning_reason(exclude=[]) -%}
    case
    {%- for reason_code in var('cleaning_rule_precedence') if reason_code not in exclude %}
        {%- if reason_code == 'valid_purchase' %}
        when true then 'valid_purchase'
        {%- else %}
        when is_{{ reason_code }} then '{{ reason_code }}'
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}
