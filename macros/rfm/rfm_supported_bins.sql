{% macro rfm_supported_bins() -%}
    {#- The bin counts seeds/rfm_segment_rules.csv has segment rules for: the settings
        check accepts only these for var rfm_bins, and the singular test
        assert_rfm_segment_rules_cover_every_cell checks every cell of each. -#}
    {{ return([4, 5]) }}
{%- endmacro %}

{% macro rfm_score_cells() -%}
    {#- Every (rfm_bins, r_score, fm_score) cell of every supported bin count. -#}
    {%- set cells = [] -%}
    {%- for bins in rfm_supported_bins() -%}
        {%- for r_score in range(1, bins + 1) -%}
            {%- for fm_score in range(1, bins + 1) -%}
                {%- do cells.append((bins, r_score, fm_score)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(cells) }}
{%- endmacro %}
