{#- The lifetime-value fits marketing can audit: one row per fit scope with the
    BG/NBD and Gamma-Gamma parameters, log-likelihoods, the customers fitted and
    left out with the reason, and the Gamma-Gamma independence check. -#}
with

fits as (

    select * from {{ ref('int_clv_fit') }}

),

final as (

    select
        fit_scope,
        cast(fitter as varchar) as fitter,
        cast(observation_end as date) as observation_end,
        cast(r as double) as r,
        cast(alpha as double) as alpha,
        cast(a as double) as a,
        cast(b as double) as b,
        cast(bgnbd_log_likelihood as double) as bgnbd_log_likelihood,
        cast(bgnbd_customers as bigint) as bgnbd_customers,
        cast(bgnbd_converged as boolean) as bgnbd_converged,
        cast(bgnbd_excluded_customers as bigint) as bgnbd_excluded_customers,
        cast(bgnbd_exclusion_reason as varchar) as bgnbd_exclusion_reason,
        cast(p as double) as p,
        cast(q as double) as q,
        cast(v as double) as v,
        cast(gamma_gamma_log_likelihood as double) as gamma_gamma_log_likelihood,
        cast(gamma_gamma_customers as bigint) as gamma_gamma_customers,
        cast(gamma_gamma_converged as boolean) as gamma_gamma_converged,
        cast(gamma_gamma_excluded_customers as bigint) as gamma_gamma_excluded_customers,
        cast(gamma_gamma_exclusion_reason as varchar) as gamma_gamma_exclusion_reason,
        cast(frequency_value_correlation as double) as frequency_value_correlation,
        cast(fit_problem as varchar) as fit_problem

    from fits

)

select * from final
