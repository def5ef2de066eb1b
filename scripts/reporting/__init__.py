"""Reporting: what marketing reads, built from the published marts only.

`report` (static HTML page, `make report`), `dashboard` and `dashboard_data` (Streamlit,
`make dashboard`), `summary` (the figures `make build` prints), `export_campaign` (a
campaign's treated customers for a CRM, `make campaign-export`), `screenshots` (README
images). Mart names and columns come from `scripts.marts`.
"""
