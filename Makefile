# Every target creates .venv on first use and installs what it needs, nothing more:
#   analysis (make demo):              pip install -e .              (no TensorFlow)
#   everything (test, lint, bench ...): pip install -e '.[dev,train]' (TensorFlow writes the
#                                       test fixtures and trains the seed case)
VENV   ?= .venv
PY     := $(VENV)/bin/python
BASE   := $(VENV)/.analysis-stamp
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
ARGS   ?=

.PHONY: demo test bench lint sample-logs train-and-compare clean

$(BASE): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $(BASE)

$(STAMP): $(BASE)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,train]'
	touch $(STAMP)

## make demo: analyse the bundled sample_logs/ offline (raw TF vs Keras, the seed case)
demo: $(BASE)
	$(VENV)/bin/tbdiff inspect sample_logs
	$(VENV)/bin/tbdiff compare sample_logs/tensorflow sample_logs/keras; test $$? -le 1

## make test: the full test suite (unit + end-to-end)
test: $(STAMP)
	$(PY) -m pytest -q

## make train-and-compare ARGS='--epochs 2 --limit-train 5000': train the seed case, then compare
train-and-compare: $(STAMP)
	$(VENV)/bin/tbdiff train-and-compare $(ARGS); test $$? -le 1

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
