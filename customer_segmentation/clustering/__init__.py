"""The clustering maths of the dbt Python models, as pure functions.

The models and the tests import the same code, the package installed in editable mode
(see customer_segmentation/__init__.py):

- `features`: settings from the models' config, features, scaling, seeded samples;
- `stability`: refits on subsamples, ARI and Hennig's cluster-wise Jaccard;
- `selection`: the per-k metrics and the rule that chooses k;
- `algorithms`: K-Means, Gaussian mixture, Ward and HDBSCAN behind one interface;
- `naming`: business order of cluster ids and names from the seed's archetypes;
- `assignment`: the k-nearest-neighbours classifier that labels customers outside the fit.
"""
