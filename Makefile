# Two entry points for a fresh machine: `make site` and `make test` (each creates .venv when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export DISABLE_MKDOCS_2_WARNING := true

.PHONY: site serve test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/gallery-builder build --site

serve: $(STAMP)
	$(BIN)/gallery-builder build
	$(BIN)/gallery-builder watch --quiet & trap 'kill $$!' EXIT INT TERM; \
		$(BIN)/python -m gallery_builder.site_build serve --livereload

# pytest-xdist, a worker per core, idle workers taking tests from busy ones; tests/conftest.py builds the default
# gallery once for all of them.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf site docs/gallery .cache
