"""Python of the dbt Python models, as importable and tested functions.

- `source_audit`: the pre-flight check of the shop's export (stg_shop__source_files);
- `clustering`: the segmentation maths (k selection, algorithms, names, KNN assignment).

dbt-duckdb puts the repository root on `sys.path` (`module_paths` in `profiles.yml`), as
pytest does (`pythonpath` in `pyproject.toml`).
"""
