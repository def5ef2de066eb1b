"""Developer tooling: for people changing the project.

`publish` is the build `make build` runs (build into a new file, test, export, swap);
`quality_gates` runs the checks no off-the-shelf tool covers, plus ruff, sqlfluff and
dbt-bouncer, for `make gates`, `make test` and pre-commit.
"""
