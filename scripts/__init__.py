"""Everything around the dbt project, one package per audience.

- `scripts.demo_data`: the synthetic Online Retail-shaped transaction generator (anyone who
  wants data to run the project on; `make demo-data`, the benchmark).
- `scripts.reporting`: what marketing reads: the HTML report, the Streamlit dashboard, the
  build summary, the campaign export for a CRM, the README screenshots.
- `scripts.benchmark`: `make bench`: build times and memory at several sizes against the
  notebook baseline and the one-query limit.
- `scripts.devtools`: for people changing the project: the publishing build (`make build`)
  and the quality gates (`make gates`, `make test`, pre-commit).
- `scripts.marts`: the one place outside dbt that knows which marts exist and their
  columns (read from dbt's manifest). Nothing outside dbt reads anything but marts.
"""
