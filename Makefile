# Two commands on a fresh machine: `make demo` runs the main job (curation, then training), `make test` the checks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench-deps clean

# Curate a generated website, then train the tiny Flamingo preset on the shards for a minute.
demo: $(STAMP)
	$(BIN)/curate demo --output demo-output
	$(BIN)/trainer tokenizer --data demo-output --output demo-output/tokenizer --vocab_size 512
	$(BIN)/trainer train --config trainer/configs/demo.yaml

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
	$(BIN)/pip install --quiet 'albumentations<2' exifread-nocycle

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
