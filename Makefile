# Two commands on a fresh machine: `make demo` runs the main job, `make test` runs the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench-deps clean

demo: $(STAMP)
	$(BIN)/curate demo --output demo-output

test: $(STAMP) lint
	PATH="$(CURDIR)/$(BIN):$$PATH" HF_HUB_OFFLINE=1 $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# img2dataset pins webdataset<0.3; only its resizer is compared, so it is installed without its pins.
bench-deps: $(STAMP)
	$(BIN)/pip install --quiet --no-deps img2dataset
	$(BIN)/pip install --quiet 'opencv-python-headless<5' 'albumentations<2' exifread-nocycle

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
