# driftkit task runner.  `make demo` and `make test` are all a new user needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
SAMPLES := data/sample
REPORTS := reports

.PHONY: demo test bytecode lint typecheck pytest samples bench bench-match bench-scale bench-scale-full bench-explore bench-explore-browser bench-samples bench-audit accuracy browser clean help

help:
	@echo "make demo    - set up .venv, generate sample clients if absent, audit them"
	@echo "make test    - set up .venv with dev tools, run ruff, mypy and pytest"
	@echo "make samples - regenerate the committed sample clients in $(SAMPLES)/"
	@echo "make bench   - align+compare at 12M rows vs DuckDB and naive pandas (minutes)"
	@echo "make bench-match / bench-scale / bench-scale-full / bench-explore / bench-explore-browser / bench-samples / bench-audit - the other benchmarks in bench/"
	@echo "make accuracy - precision and recall of the causes (simulator and the independent scenario stack), impact per seed, count-list lift"

# The venv is reused while pyproject.toml is unchanged: the stamps are newer than it.
$(VENV)/.stamp-base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-base
	$(PY) -m pip install -q -e '.[dev,scale]'
	touch $@

demo: $(VENV)/.stamp-base bytecode
	@test -f $(SAMPLES)/acme-outdoor/client.toml || $(MAKE) samples
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	$(BIN)/driftkit audit --all $(SAMPLES) --out $(REPORTS)

samples: $(VENV)/.stamp-base
	$(PY) -c "from driftkit.simulate import write_samples; write_samples('$(SAMPLES)')"

test: $(VENV)/.stamp-dev browser lint typecheck pytest

# driftkit's bytecode, compiled once: where PYTHONDONTWRITEBYTECODE is set, Python never writes
# it and every driftkit process (the CLI, each notebook kernel, each worker) would compile the
# package again (~0.4 s of a sample's audit; bench/README.md, "Bytecode").  Stale files are
# recompiled in memory, so an edited module is never run from old bytecode.
bytecode: $(VENV)/.stamp-base
	$(PY) -m compileall -q driftkit > /dev/null

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check driftkit tests bench notebooks
	$(BIN)/ruff format --check driftkit tests bench notebooks

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy driftkit

pytest: $(VENV)/.stamp-dev bytecode
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

# The browser tests need Chromium; install it from Debian's packages when missing (CI is root).
browser:
	@command -v chromium > /dev/null || command -v chromium-browser > /dev/null || \
	  { echo "installing chromium (Debian package) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; }

bench: $(VENV)/.stamp-dev
	$(PY) bench/bench_drift.py

bench-match: $(VENV)/.stamp-dev
	$(PY) bench/bench_match.py

bench-scale: $(VENV)/.stamp-dev
	$(PY) bench/bench_scale.py

bench-scale-full: $(VENV)/.stamp-dev  ## the whole audit of a simulated 1M-SKU client: ~30 min, 9 GB
	$(PY) bench/bench_scale.py --skus --full-skus 1000000 --full-modes full-pandas

bench-explore: $(VENV)/.stamp-dev
	$(PY) bench/bench_explore.py

bench-explore-browser: $(VENV)/.stamp-dev browser  ## the explorer in JupyterLab + headless Chromium
	$(PY) bench/bench_explore_browser.py
	$(PY) bench/bench_explore_browser.py --simulate 20000 60

bench-samples: $(VENV)/.stamp-dev  ## REF=../base compares with another checkout in the same run
	$(PY) bench/bench_samples.py $(if $(REF),--reference $(REF))

bench-audit: $(VENV)/.stamp-dev  ## whole audits vs DuckDB; QUICK=1 skips the 100k-SKU client, REF=../base compares
	$(PY) bench/bench_audit.py $(if $(QUICK),--quick) $(if $(REF),--reference $(REF))

accuracy: $(VENV)/.stamp-dev
	$(PY) -m driftkit.simulate.score
	PYTHONPATH=. $(PY) -m tests.scenarios.measure
	$(PY) -m driftkit.simulate.countlift
	$(PY) -m driftkit.simulate.impactcheck 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache data/processed
