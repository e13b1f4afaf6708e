# Every target creates .venv on first use and installs what it needs, nothing more:
#   analysis (make demo):              pip install -e .              (no TensorFlow, ~200 MB)
#   everything (test, lint, bench ...): pip install -e '.[dev,train]' (TensorFlow writes the
#                                       test fixtures and trains the seed case, ~2.3 GB)
# Speed: the analysis venv is made without a pip of its own when the system pip can install
# into it (pip >= 22.3, --python), and nothing is byte-compiled ahead of time (--no-compile);
# the full install bootstraps the venv's own pip for development.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BASE   := $(VENV)/.analysis-stamp
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
ARGS   ?=
PIP     = $$($(PY) -m pip --version >/dev/null 2>&1 && echo "$(PY) -m pip" || echo "$(PYTHON) -m pip --python $(PY)")
PIPOPTS = -q --no-compile --disable-pip-version-check

.PHONY: demo test bench lint sample-logs train-and-compare clean

$(BASE): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m pip --python $(PY) --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null
	$(PIP) install $(PIPOPTS) -e .
	touch $(BASE)

$(STAMP): $(BASE)
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null
	$(PY) -m pip install $(PIPOPTS) -e '.[dev,train]'
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

## make bench: event-reading, alignment and many-runs benchmarks (minutes; writes into bench_out/)
bench: $(STAMP)
	$(PY) scripts/bench_events.py
	$(PY) scripts/bench_align.py
	$(PY) scripts/bench_runs.py

lint: $(STAMP)
	$(VENV)/bin/ruff check tbdiff tests scripts

sample-logs: $(STAMP)
	bash scripts/make_sample_logs.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
