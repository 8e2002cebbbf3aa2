# Two entry points (see README): `make quickstart` and `make test`. Offline except package registries.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.edgeseg-installed
EXTRAS ?= all,dev

.PHONY: setup quickstart test lint bench clean

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
	EDGESEG_SLOW=1 $(PY) -m pytest -q --durations=15; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected: failing" >&2; exit 1; fi; exit $$rc

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: setup
	$(PY) -m benchmarks.train_throughput

clean:
	rm -rf runs .pytest_cache .ruff_cache
