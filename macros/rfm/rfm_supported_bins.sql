{% macro rfm_supported_bins() -%}
    {#- The bin counts seeds/rfm_segment_rules.csv has segment rules for: the settings
        check accepts only these for var rfm_bins, and the singular test
        assert_rfm_segment_rules_cover_every_cell checks every cell of each. -#}
    {{ return([4, 5]) }}
{%- endmacro %}
