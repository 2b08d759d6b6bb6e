# The two quick-start commands: `make check` (the scenario suite) and `make test`.
# Each first installs the system libraries if they are missing.
SWIFT ?= swift
SIM_RELEASE = .build/release/medallion-sim

.PHONY: deps test check determinism promtool-check build release bench clean

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

clean:
	rm -rf .build
