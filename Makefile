# Two entry points (see README): `make quickstart` and `make test`. Offline except package registries.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.edgeseg-installed
EXTRAS ?= all,dev

.PHONY: setup quickstart test lint layers bench clean

setup: $(STAMP)

# torch is pinned through constraints.txt: any other spec pulls GBs of CUDA wheels.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

quickstart: setup
	$(VENV)/bin/edgeseg quickstart --out runs/quickstart

# pytest exit 5 = "no tests collected": a failure here, so CI can never pass on nothing.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(MAKE) --no-print-directory layers
	EDGESEG_SLOW=1 $(PY) -m pytest -q --durations=15; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected: failing" >&2; exit 1; fi; exit $$rc

lint: setup layers
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# The import-layer contract (pyproject.toml, ARCHITECTURE.md) checked on the package exactly as it
# installs: converters/ and benchmarks/ only become edgeseg.converters / edgeseg.benchmarks in the
# wheel, so the wheel is built and unpacked, and lint-imports reads that tree.
LAYERS := build/layers
layers: setup
	rm -rf $(LAYERS) build/lib build/bdist.* && mkdir -p $(LAYERS)  # a stale build/lib would ship deleted modules
	$(PY) -m pip wheel --quiet --no-index --no-deps --no-build-isolation -w $(LAYERS) .
	cd $(LAYERS) && $(abspath $(PY)) -m zipfile -e edgeseg-*.whl . && $(abspath $(VENV))/bin/lint-imports ../../pyproject.toml

bench: setup
	$(PY) -m benchmarks.studies.train_throughput

clean:
	rm -rf runs .pytest_cache .ruff_cache
