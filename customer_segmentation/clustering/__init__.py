"""The clustering maths of the dbt Python models, as pure functions.

dbt-duckdb puts the repository root on `sys.path` for Python models (`module_paths: ["."]`
in `profiles.yml`; dbt runs from the repository root) and pytest does the same
(`pythonpath` in `pyproject.toml`), so models and tests import the same code:

- `features`: settings from the models' config, features, scaling, seeded samples;
- `stability`: refits on subsamples, ARI and Hennig's cluster-wise Jaccard;
- `selection`: the per-k metrics and the rule that chooses k;
- `algorithms`: K-Means, Gaussian mixture, Ward and HDBSCAN behind one interface;
- `naming`: business order of cluster ids and names from the seed's archetypes;
- `assignment`: the k-nearest-neighbours classifier that labels customers outside the fit.
"""
