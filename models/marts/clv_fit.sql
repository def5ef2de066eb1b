{#- The lifetime-value fits marketing can audit: one row per fit scope with the
    BG/NBD and Gamma-Gamma parameters, log-likelihoods, the customers fitted and
    left out with the reason, and the Gamma-Gamma independence check. -#}
{{ select_contract_columns(ref('int_clv_fit')) }}
