# Every target creates .venv on first use and installs the project into it.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: demo test bench lint sample-logs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,train]'
	touch $(STAMP)

## make demo: analyse the bundled sample_logs/ offline (raw TF vs Keras, the seed case)
demo: $(STAMP)
	$(VENV)/bin/tbdiff inspect sample_logs
	$(VENV)/bin/tbdiff compare sample_logs/tensorflow sample_logs/keras; test $$? -le 1

## make test: the full test suite (unit + end-to-end)
test: $(STAMP)
	$(PY) -m pytest -q

## make bench: event-reading and alignment benchmarks (minutes; writes into bench_out/)
bench: $(STAMP)
	$(PY) scripts/bench_events.py
	$(PY) scripts/bench_align.py

lint: $(STAMP)
	$(VENV)/bin/ruff check tbdiff tests scripts

sample-logs: $(STAMP)
	bash scripts/make_sample_logs.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
