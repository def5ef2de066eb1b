# Two commands matter: `make build` and `make test`. Both create the virtual
# environment on first use. Run every command from the repository root: dbt
# resolves the DuckDB file and the source path against the current directory.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Apache Spark environment (spark-venv below).
SPARK_VENV  ?= .venv-spark
SPARK_BIN   := $(SPARK_VENV)/bin
SPARK_STAMP := $(SPARK_VENV)/.installed

export DBT_PROFILES_DIR := $(CURDIR)
# dbt's anonymous usage tracking would try to reach the internet.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: build test venv browser lock demo-data docs report bench lint clean dashboard campaign-export \
  spark-venv java spark-build test-spark

# Builds into a new file, runs every test there, exports the marts to Parquet and only
# then publishes (scripts/devtools/publish.py): readers of segmentation.duckdb never see half a
# build. Extra dbt arguments: make build DBT_ARGS="--vars '{as_of_date: 2011-12-01}'"
# make build DBT_TARGET=spark builds on local Apache Spark instead (spark-build below).
ifneq ($(filter spark spark_python,$(DBT_TARGET)),)
build: spark-build
else
build: $(STAMP)
	$(BIN)/python -m scripts.devtools.publish -- $(DBT_ARGS)
	$(BIN)/python -m scripts.reporting.summary
endif

# Every test, the two-engine comparison on local Apache Spark included (it needs the Spark
# environment and Java).
test: $(STAMP) $(SPARK_STAMP) browser java
	$(BIN)/python -m pytest

# The Apache Spark tests alone (marked spark): the two-engine comparison (the dirty fixture and
# the demo on local Spark against the DuckDB builds) and the session bridge.
test-spark: $(STAMP) $(SPARK_STAMP) java
	$(BIN)/python -m pytest -m spark tests/python

venv: $(STAMP)

# The report's browser test drives Debian's Chromium and ChromeDriver (a test tool's
# own browser download does not work offline); installed here when missing, as root.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver >/dev/null; }

# The project itself goes in editable mode: dbt's Python models import customer_segmentation
# as an installed package, and the scripts run from any directory with `python -m`.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	touch $@

# Apache Spark (README, "Apache Spark"): its own environment, since dbt-spark and pyspark
# bring their own dependency tree, with the bridge that runs the Python models in the local
# session (plugins/dbt-spark-session) and the project, both editable.
# The tables (Parquet) and the metastore of `make spark-build`.
SEGMENTATION_SPARK_DIR ?= target/spark
export SEGMENTATION_SPARK_DIR
# pyspark's driver binds to the host's address otherwise, which a container may not route.
export SPARK_LOCAL_IP ?= 127.0.0.1

$(SPARK_STAMP): requirements-spark.txt constraints-spark.txt pyproject.toml \
  plugins/dbt-spark-session/pyproject.toml
	test -x $(SPARK_BIN)/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(SPARK_BIN)/python -m pip install --quiet --quiet -r requirements-spark.txt -c constraints-spark.txt
	$(SPARK_BIN)/python -m pip install --quiet --quiet --no-deps -e plugins/dbt-spark-session -e .
	touch $@

spark-venv: $(SPARK_STAMP)

# pyspark runs on Java 17 or 21: Debian's openjdk-17-jre-headless, installed when missing
# (as root), as `browser` installs Chromium.
java:
	@command -v java >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      openjdk-17-jre-headless >/dev/null; }

# The demo (or DBT_ARGS="--vars ...") on local Spark, in $(SEGMENTATION_SPARK_DIR): every
# seed, model and test (on-run-start registers the raw files in Spark's catalog), then the
# marts as Parquet in $(SEGMENTATION_SPARK_DIR)/marts for readers without Spark.
spark-build: $(SPARK_STAMP) java
	DBT_TARGET=spark_python $(SPARK_BIN)/dbt build $(DBT_ARGS)
	$(SPARK_BIN)/python -m scripts.devtools.spark_export --out $(SEGMENTATION_SPARK_DIR)/marts

# Re-resolve the environment from requirements.txt and pin every version.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet --quiet --upgrade pip
	$(VENV)-lock/bin/python -m pip install --quiet --quiet -r requirements.txt
	$(VENV)-lock/bin/python -m pip freeze --exclude-editable > constraints.txt
	rm -rf $(VENV)-lock

# Regenerates the bundled demo file (deterministic: the result is byte-identical) in two
# steps: the lines without the simulated campaign are built to draw the campaign's treated
# arm exactly as the project draws it (data/demo/demo_campaign_treated.csv); then the lines
# are written with the campaign's effect on those customers.
demo-data: $(STAMP)
	@work=$$(mktemp -d) && \
	$(BIN)/python -m scripts.demo_data.generate_transactions --campaign none --out $$work/base.csv.gz && \
	RAW_TRANSACTIONS_PATH=$$work/base.csv.gz SEGMENTATION_DUCKDB_PATH=$$work/base.duckdb \
	  $(BIN)/dbt build --quiet --select +campaign_members +campaign_summary --exclude resource_type:test resource_type:unit_test \
	  --target-path $$work/target --log-path $$work/logs && \
	$(BIN)/python -m scripts.reporting.export_campaign autumn_reactivation_2011_09 \
	  --database $$work/base.duckdb --out data/demo/demo_campaign_treated.csv && \
	$(BIN)/python -m scripts.demo_data.generate_transactions && rm -rf $$work

# A campaign's treated customers for a CRM (the control group left out), from the
# published marts: make campaign-export CAMPAIGN=autumn_reactivation_2011_09 OUT=treated.csv
campaign-export: $(STAMP)
	@test -n "$(CAMPAIGN)" && test -n "$(OUT)" || \
	  { echo "usage: make campaign-export CAMPAIGN=<campaign_id of seeds/campaigns.csv> OUT=<file.csv|file.parquet>"; exit 2; }
	$(BIN)/python -m scripts.reporting.export_campaign "$(CAMPAIGN)" --out "$(OUT)"

docs: $(STAMP)
	SEGMENTATION_DUCKDB_ACCESS_MODE=read_only $(BIN)/dbt docs generate

# Python and SQL lint: ruff check + ruff format --check, sqlfluff (.sqlfluff), no
# DuckDB-only SQL outside the dispatched macros (gate portable), and no intermediate model
# named outside models/ (gate interfaces). The gate runner keeps dbt's target, logs and
# DuckDB file out of the repository.
lint: $(STAMP)
	$(BIN)/python -m scripts.devtools.quality_gates --only ruff --only sqlfluff --only portable \
		--only interfaces

# Every quality gate (scripts/devtools/quality_gates.py): lint, dbt docs generate, 100%
# documentation and models tested, tested primary keys, dbt-bouncer conventions.
# Docs are generated against $$SEGMENTATION_DUCKDB_PATH, else segmentation.duckdb,
# else the demo built in a temporary directory. `make test` runs them too.
.PHONY: gates
gates: $(STAMP)
	$(BIN)/python -m scripts.devtools.quality_gates

# Deletes the published warehouse too (the links and every publication).
clean:
	rm -rf target logs dbt_packages warehouse segmentation.duckdb segmentation_parquet

# The Streamlit dashboard on http://127.0.0.1:$(DASHBOARD_PORT), over the Parquet export
# of the published warehouse (read-only; builds may run meanwhile).
DASHBOARD_PORT ?= 8501
DASHBOARD_FLAGS = --server.address 127.0.0.1 --server.headless true \
  --browser.gatherUsageStats false --client.toolbarMode viewer
dashboard: $(STAMP)
	$(BIN)/streamlit run scripts/reporting/dashboard.py --server.port $(DASHBOARD_PORT) $(DASHBOARD_FLAGS)

# Writes reports/segmentation_report.html from the published warehouse.
report: $(STAMP)
	$(BIN)/python -m scripts.reporting.report

# Generates data at several sizes, builds each, writes docs/benchmarks.md.
# BENCH_ARGS="--sizes 100000 1000000 10000000 100000000" adds the 100M run.
bench: $(STAMP)
	$(BIN)/python -m scripts.benchmark.bench $(BENCH_ARGS)
