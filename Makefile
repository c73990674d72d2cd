# Two commands do all the set-up: `make demo` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The CPU build of torch, installed before anything that depends on torch so no CUDA build is pulled.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
VENV := .venv
# The demo keeps its own PAPERREC_HOME (git-ignored), so trying paperrec never touches your own profiles.
DEMO_HOME ?= .paperrec-demo
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test fuzz lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e '.[dev,onnx,lab,notify,llm,zotero]'
	touch $(STAMP)

install: $(STAMP)

# The example profiles are copied once, so the demo's votes stay. Not `cp -n`: since coreutils 9.2, and on BSD,
# it fails when it skips a file, which ends every later `make demo`.
demo: $(STAMP)
	mkdir -p $(DEMO_HOME)/profiles
	for f in profiles/*.toml; do [ -e "$(DEMO_HOME)/profiles/$${f##*/}" ] || cp "$$f" $(DEMO_HOME)/profiles/; done
	PAPERREC_HOME=$(DEMO_HOME) $(BIN)/paperrec rank examples/arxiv-cs.CV-2021-04-22.md \
		--profile super-resolution --profile medical-segmentation

# After `make demo`: the web page for the demo's profiles and day (like / not interested, keys j k l d o u).
serve: $(STAMP)
	PAPERREC_HOME=$(DEMO_HOME) $(BIN)/paperrec serve --open

test: $(STAMP)
	$(BIN)/python -m pytest

# The property tests with new random examples (the suite repeats the same ones); a failure found here becomes a test.
fuzz: $(STAMP)
	PAPERREC_HYPOTHESIS=explore $(BIN)/python -m pytest tests/test_fuzz.py tests/test_export_safety.py -q

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) *.egg-info $(DEMO_HOME)
