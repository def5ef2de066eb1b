{#- One row per candidate k: the metrics the number of clusters was chosen by,
    the stability of each k under resampling and why it was or was not chosen
    (the elbow and silhouette charts are drawn from it). -#}
with

selection as (

    select * from {{ ref('int_kmeans_k_selection') }}

),

final as (

    select
        k,
        inertia,
        silhouette,
        silhouette_min_cluster,
        calinski_harabasz,
        davies_bouldin,
        smallest_cluster_share,
        stability_ari_mean,
        stability_ari_min,
        stability_jaccard_mean,
        stability_jaccard_min,
        stability_resamples,
        is_eligible,
        is_stable,
        is_elbow,
        is_chosen,
        selection_reason,
        selection_rule,
        customers,
        fit_sample_size,
        silhouette_sample_size,
        note
    from selection

)

select * from final
