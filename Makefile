# rbpipe: the two commands an analyst needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rbpipe-installed
INPUTS ?= inputs
OUTPUTS ?= outputs
# The month to consolidate: the previous calendar month unless PERIOD=YYYY-MM is given.
PERIOD ?= $(shell $(PYTHON) -c "import datetime as d; t = d.date.today().replace(day=1) - d.timedelta(days=1); print(t.strftime('%Y-%m'))")

.PHONY: setup run demo serve test browser office lint bench clean

setup: $(STAMP)

# Rebuilt only when pyproject.toml changes, so a second `make run` is near-instant.
$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)
	@echo "Lingkungan siap: $(VENV)"

# Generates the demo month when inputs/ holds no month folder yet, then consolidates PERIOD.
run: setup
	@if ! ls -d $(INPUTS)/[0-9][0-9][0-9][0-9]-[0-9][0-9] >/dev/null 2>&1; then \
		echo "Folder $(INPUTS)/ belum berisi kiriman bulan apa pun: membuat data contoh untuk $(PERIOD)."; \
		$(BIN)/rbpipe demo --period $(PERIOD) --out $(INPUTS)/$(PERIOD); \
	fi
	@$(BIN)/rbpipe run --period $(PERIOD) --inputs $(INPUTS) --outputs $(OUTPUTS)

demo: setup
	@$(BIN)/rbpipe demo --period $(PERIOD) --out $(INPUTS)/$(PERIOD)

# The portal on this machine's repository data (inputs/, outputs/, portal.sqlite). On a fresh
# clone it first makes and consolidates the demo month, as `make run` does, so the board shows it.
serve: setup
	@if ! ls -d $(INPUTS)/[0-9][0-9][0-9][0-9]-[0-9][0-9] >/dev/null 2>&1; then \
		echo "Folder $(INPUTS)/ belum berisi kiriman bulan apa pun: membuat data contoh untuk $(PERIOD)."; \
		$(BIN)/rbpipe demo --period $(PERIOD) --out $(INPUTS)/$(PERIOD); \
	fi
	@if [ -d $(INPUTS)/$(PERIOD) ] && [ ! -f $(OUTPUTS)/$(PERIOD)/manifest.json ]; then \
		$(BIN)/rbpipe run --period $(PERIOD) --inputs $(INPUTS) --outputs $(OUTPUTS); \
	fi
	@$(BIN)/rbpipe serve --data . --periode $(PERIOD) $(SERVE_ARGS)

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download is not used): installed here when missing, never skipped.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Memasang Chromium untuk uji peramban (apt-get install chromium) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x /usr/bin/chromium || { echo "Chromium tidak dapat dipasang: uji peramban tidak dapat berjalan."; exit 1; }

# The rendering tests open our workbooks in LibreOffice and read the PDF it prints (no "###",
# every label there) and convert the template through it: installed here when missing, never
# skipped.
office:
	@if ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then \
		echo "Memasang LibreOffice dan poppler-utils untuk uji tampilan buku kerja (apt-get) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui poppler-utils >/dev/null; \
	fi
	@command -v soffice >/dev/null && command -v pdftotext >/dev/null || { echo "LibreOffice/pdftotext tidak dapat dipasang: uji tampilan tidak dapat berjalan."; exit 1; }

# pytest exits 5 when it collects no test: that is a failure here, like any non-zero code.
test: setup browser office
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest tidak menemukan satu pun tes (kode 5): gagal."; fi; \
	exit $$rc

# ruff (style and format), then mypy over the whole package (strict on the model, run and
# publish layers: pyproject.toml [tool.mypy]).
lint: setup
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

bench: setup
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
