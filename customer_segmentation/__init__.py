"""Python of the dbt Python models, as importable and tested functions.

- `source_audit`: the pre-flight check of the shop's export (stg_shop__source_files);
- `clustering`: the segmentation maths (k selection, algorithms, names, KNN assignment);
- `lifetime_value`: BG/NBD and Gamma-Gamma, the backtest;
- `project`: dbt_project.yml's vars, for code outside dbt (tests, command lines).

The Makefile installs the project in editable mode (`pip install -e .`), so the models and
the tests import it as an installed package; `module_paths` in `profiles.yml` and
`pythonpath` in `pyproject.toml` also put the repository root on `sys.path`.
"""
