{#- One row per clustering algorithm compared on the same features and sample:
    clusters, metrics, stability, noise share and a one-line verdict. -#}
with

comparison as (

    select * from {{ ref('int_cluster_model_comparison') }}

),

final as (

    select
        clustering_algorithm,
        cluster_count,
        k_chosen_by,
        silhouette,
        silhouette_min_cluster,
        calinski_harabasz,
        davies_bouldin,
        stability_ari_mean,
        stability_jaccard_min,
        smallest_cluster_share,
        noise_share,
        cluster_sizes,
        is_stable,
        is_used_for_labels,
        verdict,
        sample_size
    from comparison

)

select * from final
