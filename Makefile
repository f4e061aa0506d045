# Two commands do everything on a fresh machine:
#   make lab    set up (first time only), then open the course in JupyterLab
#   make test   set up (first time only), then run every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8888
# The Time Machine and the Kaggle house prices beside the checkout (CI has them there);
# elsewhere they are downloaded.
SHARED_DATA ?= ../shared/data

# Saved notebook outputs are made and checked with the same thread count: float32
# reductions differ in their last bits between thread counts.
export OMP_NUM_THREADS := 2
export MKL_NUM_THREADS := 2
# Idle OpenMP threads sleep instead of spinning: same results, far faster on a busy machine
export OMP_WAIT_POLICY := PASSIVE
export PYTHONHASHSEED := 0
export PYTHONIOENCODING := utf-8

.PHONY: lab test setup data lint notebooks doctor clean test-portable time-notebooks sweep-claims

# torch first, the build this machine needs (tools/install_torch.py: CPU unless an NVIDIA
# GPU is here; TORCH_BUILD=cpu|cuda|local forces one), then everything else
TORCH_BUILD ?= auto
$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) tools/install_torch.py --build $(TORCH_BUILD)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(VENV)/.installed

# Copy what SHARED_DATA holds (a source is never a reason to download), then find or
# download the rest (Fashion-MNIST comes from Debian's dataset-fashion-mnist where installed).
data: setup
	$(if $(wildcard $(SHARED_DATA)/timemachine.txt),$(PY) -m d2lutils data fetch --source $(SHARED_DATA) time-machine)
	$(if $(wildcard $(SHARED_DATA)/kaggle_house_pred_train.csv),$(PY) -m d2lutils data fetch --source $(SHARED_DATA) kaggle-house)
	$(PY) -m d2lutils data fetch

doctor: setup
	$(PY) -m d2lutils doctor

# As root (a container, a rented GPU server) JupyterLab refuses to start without
# --allow-root; it is safe here because the server listens on 127.0.0.1 only.
LAB_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
lab: data
	-@$(PY) -m d2lutils doctor --brief
	@# Trust the shipped outputs, else JupyterLab and RISE show plots as text until re-run
	@$(PY) -m jupyter trust $(NB) >/dev/null
	@echo "Starting JupyterLab on http://127.0.0.1:$(PORT) (open the URL with the token below)."
	@$(if $(LAB_ROOT),echo "Running as root (a container or a server): passing --allow-root; \
	the server listens on 127.0.0.1 only (reach it with ssh -L, see the README).")
	$(PY) -m jupyterlab --no-browser --ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.root_dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# The saved outputs are CPU outputs: the tests hide CUDA devices, so a GPU machine checks
# them on its CPU (run the notebooks on its GPU with `make time-notebooks`).
test test-portable: export CUDA_VISIBLE_DEVICES :=
test: data lint
	$(PY) -m pytest

# Re-execute every notebook in place, top to bottom in a fresh kernel (the saved outputs
# nbval checks).  NB=path/to/one.ipynb re-executes just one.
NB ?= $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
notebooks: data
	$(PY) -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False $(NB)

# nbval again as two other machines (tools/emulate.py): other CPU kernels, other thread
# counts.  NB=path/to/one.ipynb checks just that notebook.
test-portable: data
	$(PY) tools/emulate.py generic -- $(PY) -m pytest -n 2 --dist loadfile $(NB)
	$(PY) tools/emulate.py avx2 -- $(PY) -m pytest $(NB)

# Run every notebook (NB=...) in a fresh kernel on this machine as it is, GPU included;
# print the time each took.  Nothing is written back.
time-notebooks: data
	$(PY) tools/run_notebooks.py --device-report $(NB)

# Validate the claims (`claim` cells) over 5 seeds x this and the emulated machines;
# writes tests/CLAIMS.md.  NB=... sweeps just those notebooks.
sweep-claims: data
	$(PY) tools/sweep_claims.py $(if $(filter command line,$(origin NB)),$(NB))

clean:
	rm -rf build .pytest_cache .ruff_cache

# Lecture slides (README, "Lecturing").  `make slides`: offline reveal.js decks of every
# notebook, plus an index page, in build/slides/; reveal.js and MathJax come from npm
# (pinned in slides/package-lock.json), never a CDN.  `make rise-metadata`: write the
# course's RISE settings into every notebook and rise.css into every chapter folder.
.PHONY: slides rise-metadata
SLIDES_OUT ?= build/slides
slides/node_modules/.package-lock.json: slides/package.json slides/package-lock.json
	cd slides && npm ci --no-audit --no-fund --loglevel=error
slides: setup slides/node_modules/.package-lock.json
	$(PY) tools/build_slides.py --out $(SLIDES_OUT)
rise-metadata: setup
	$(PY) tools/rise_metadata.py

# The six chapter models timed with d2lutils (bench), and side by side with the book's own
# d2l==0.17.6 in peer/ (bench-peer builds it first: benchmarks/peer_env.sh).  Not part of
# `make test`.  test-compat runs tests_compat/ in peer/ with the book as the test oracle
# (skipped, with the reason, where peer/ cannot be built).
# bench-rnn: the book's RNN settings against the course's CPU settings of 8.5/8.6, in full
# (about 8 minutes; benchmarks/bench_rnn_settings.py).
.PHONY: bench bench-peer bench-rnn peer test-compat
peer:
	bash benchmarks/peer_env.sh
bench: data
	$(PY) benchmarks/bench_chapters.py
bench-peer: data peer
	$(PY) benchmarks/bench_chapters.py --peer
bench-rnn: data
	$(PY) benchmarks/bench_rnn_settings.py
test-compat: data
	bash tests_compat/run.sh $(PY)
