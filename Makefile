# The two quick-start commands: `make check` (the scenario suite) and `make test`.
# Each first installs the system libraries if they are missing.
SWIFT ?= swift
SIM_RELEASE = .build/release/medallion-sim

.PHONY: deps test check determinism promtool-check build release bench clean pyspark-venv progress-check

deps:
	@scripts/ensure-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The codec's resident-memory tests measure the whole process, so they run in
# a process of their own, after the rest (which runs in parallel).
test: deps
	$(SWIFT) test --skip ResourceSensitiveTests
	$(SWIFT) test --filter ResourceSensitiveTests

check: release
	$(SIM_RELEASE) check

# Real promtool checks the harness: the rule file, metrics.om imported into a
# TSDB, the generated rule tests of the incident-013 scenarios, a tampered one failing.
promtool-check: release
	scripts/promtool-check.sh $(SIM_RELEASE)

# Every scenario twice, the second time under another time zone, locale and
# working directory: outputs must be byte-identical (docs/REFERENCE.md §7).
determinism: release
	scripts/determinism.sh

bench: release
	$(SIM_RELEASE) bench codec

# A throwaway virtual environment with PySpark (no JVM is started: only its
# Python classes are used), kept under .build-venv/ (git-ignored) between runs.
PYSPARK_VENV ?= .build-venv/pyspark
pyspark-venv:
	@test -x $(PYSPARK_VENV)/bin/python || { python3 -m venv $(PYSPARK_VENV) || { apt-get install -y python3-venv && python3 -m venv $(PYSPARK_VENV); }; }
	@$(PYSPARK_VENV)/bin/python -c 'import pyspark' 2>/dev/null || $(PYSPARK_VENV)/bin/pip install --quiet pyspark==4.3.0

# PySpark's own StreamingQueryProgress reads every progress line a run writes
# (a crash-and-restart scenario: five queries, two runs of one), and the real
# Spark progress fixtures, checked by the same rules.
progress-check: release pyspark-venv
	rm -rf .build/progress-check
	$(SIM_RELEASE) run crash-restart --out .build/progress-check > /dev/null
	$(PYSPARK_VENV)/bin/python scripts/check_progress_pyspark.py .build/progress-check/progress/*.jsonl \
		$(wildcard Tests/PlanningTests/Fixtures/spark/*/*.progress.jsonl)

clean:
	rm -rf .build
