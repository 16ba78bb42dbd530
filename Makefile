# Two commands on a fresh machine (see README.md):
#   make lab    set everything up, then open the course in JupyterLab
#   make test   set everything up, then run the whole test suite
# Both are idempotent: stamps record what is installed, and a second run reinstalls nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# pip prints a warning per package for this machine's local index folders that lack it: noise, not errors.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMPS := .stamps
# nbgrader shells out to alembic; jupyter finds the venv's kernels: the venv's bin/ comes first.
export PATH := $(BIN):$(PATH)
# Where NLTK finds the WordNet data copied from Debian's packages (module 3).
export NLTK_DATA := $(abspath .nltk_data)

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
APT := $(shell command -v apt-get 2>/dev/null)
SUDO := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo 2>/dev/null) -n)

ID ?= ps1_backprop
# make lab: where JupyterLab listens; no browser is opened on a machine without a screen.
PORT ?= 8888
IP ?= 127.0.0.1
NO_BROWSER := $(if $(DISPLAY)$(filter Darwin,$(shell uname -s)),,--no-browser)
# make hub: the class's JupyterHub (deploy/jupyterhub; README "For instructors").
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
HUB_PREFIX ?= /opt/nlp-course
ROSTER ?= deploy/jupyterhub/roster.toml
SUBMISSIONS ?= submissions
OUT ?= grades/$(ID).csv

.PHONY: hub hub-deps lab test setup data sandbox browser postgres release translations grade feedback bench clean help site site-test site-setup

help:
	@echo "make lab      set up and open the course in JupyterLab"
	@echo "make test     set up and run the whole test suite"
	@echo "make release  regenerate notebooks/assignments/ from solutions/"
	@echo "make translations  regenerate the Chinese edition notebooks/zh/ and list stale cells"
	@echo "make grade    ID=ps1_backprop SUBMISSIONS=dir OUT=grades.csv  autograde a batch"
	@echo "make feedback ID=ps1_backprop   HTML feedback without hidden tests"
	@echo "make bench    time every notebook and the grader against plain nbgrader"
	@echo "make hub      (as root) the class's JupyterHub on http://$(HUB_IP):$(HUB_PORT): accounts from ROSTER=$(ROSTER)"
	@echo "make site     execute every lecture (English and Chinese) and build the website in _site/"
	@echo "make site-test  build the site and check it in headless Chromium (tests/test_site.py)"

setup: $(STAMPS)/python data sandbox

# The Python environment: torch first (the pinned CPU build), then everything else.
$(STAMPS)/python: pyproject.toml
	@echo "Setting up the Python environment in $(VENV)/ (first run: torch, JupyterLab, nbgrader; about 3 minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "torch==2.13.0" $(QUIET_PIP)
	$(BIN)/python -m pip install -q -e ".[test]" $(QUIET_PIP)
	@mkdir -p $(STAMPS) && touch $@

# WordNet from Debian (needed from module 3 on), and the two Bibles of notebook 09 (SWORD's
# diatheke reads them). Skipped politely where apt-get is missing.
data: $(STAMPS)/wordnet $(STAMPS)/bible
$(STAMPS)/wordnet:
	@if [ -f /usr/share/wordnet/data.noun ]; then echo "WordNet: found in /usr/share/wordnet"; \
	elif [ -n "$(APT)" ] && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "WordNet: installing Debian's wordnet-base and wordnet-sense-index"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wordnet-base wordnet-sense-index >/dev/null; \
	else echo "WordNet: apt-get is not available here; skipping (modules 1-2 and 4-8 do not need it)"; fi
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/bible:
	@modules=$$(command -v diatheke >/dev/null && diatheke -b system -k modulelist || true); \
	if [[ $$modules == *engWEB2015eb* && $$modules == *spaRV1909eb* ]]; then echo "Bibles: found (diatheke, sword-text-web, sword-text-sparv)"; \
	elif [ -n "$(APT)" ] && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "Bibles: installing Debian's diatheke, sword-text-web and sword-text-sparv (notebook 09)"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq diatheke sword-text-web sword-text-sparv >/dev/null; \
	else echo "Bibles: apt-get is not available here; skipping (only notebook 09 needs them)"; fi
	@mkdir -p $(STAMPS) && touch $@

# bubblewrap (Debian's bwrap, Flatpak's sandbox): the allow-listed file system of verified grading.
# Without it grading still runs, and every CSV row says that the file system was not allow-listed.
sandbox: $(STAMPS)/sandbox
$(STAMPS)/sandbox:
	@if command -v bwrap >/dev/null 2>&1; then echo "bubblewrap: $$(bwrap --version)"; \
	elif [ -n "$(APT)" ] && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "bubblewrap: installing Debian's bubblewrap (the grading jail)"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq bubblewrap >/dev/null; \
	else echo "bubblewrap: not installable here; verified grading will say its file system is not allow-listed"; fi
	@mkdir -p $(STAMPS) && touch $@

# Headless Chromium for the browser tests (Debian's package; never a browser download).
browser: $(STAMPS)/browser
$(STAMPS)/browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then echo "Chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ -n "$(APT)" ] && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "Chromium: installing Debian's chromium for the browser tests (about a minute)"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	else echo "Chromium: not installable here; the browser tests will be skipped"; fi
	@mkdir -p $(STAMPS) && touch $@

# PostgreSQL for the shared-gradebook test (Debian's server, started on 127.0.0.1 by the test itself).
postgres: $(STAMPS)/postgres
$(STAMPS)/postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "PostgreSQL: $$(ls -d /usr/lib/postgresql/*/ | head -1)"; \
	elif [ -n "$(APT)" ] && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  echo "PostgreSQL: installing Debian's server for the shared-gradebook test"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL: not installable here; the shared-gradebook test will be skipped"; fi
	@mkdir -p $(STAMPS) && touch $@

lab: setup
	@echo "Opening the course in JupyterLab on http://$(IP):$(PORT)/lab (open the URL with its token, printed below;"
	@echo "  another port: make lab PORT=9999; from another machine: ssh -L $(PORT):localhost:$(PORT) this-host, then open it there)"
	$(BIN)/jupyter lab --config=jupyter_server_config.py --ip=$(IP) --port=$(PORT) --ServerApp.root_dir=. \
	  --LabApp.default_url=/lab/tree/notebooks $(NO_BROWSER) $(ROOT_FLAG)

test: setup browser postgres site-setup hub-deps
	$(BIN)/python -m pytest -q

release: setup
	$(BIN)/python -m autograder release

# The Chinese edition: notebooks/zh/ from the English lectures and i18n/zh/*.md, the assignments'
# bilingual cells in solutions/ and then their releases; lists stale cells.
translations: setup
	$(BIN)/python i18n/build.py
	$(BIN)/python -m autograder release

grade: setup
	$(BIN)/python -m autograder grade $(ID) --submissions $(SUBMISSIONS) --out $(OUT) $(if $(CLUSTER),--cluster $(CLUSTER))

feedback: setup
	$(BIN)/python -m autograder feedback $(ID)

bench: setup
	$(BIN)/python benchmarks/run.py

# The class's JupyterHub: the Hub in this environment, its proxy from npm (package-lock.json), and the
# environment every account's server runs in ($(HUB_PREFIX)/env, from Debian's python3: the course
# installed once for all users). Needs root (and Node.js); elsewhere it says so and the Hub test is skipped.
hub-deps: $(STAMPS)/hub
$(STAMPS)/hub: $(STAMPS)/python deploy/jupyterhub/package-lock.json
	@if [ "$$(id -u)" != 0 ]; then echo "Hub: not root, so no Unix accounts can be made here: skipping (the Hub test is skipped)"; \
	elif ! command -v npm >/dev/null; then echo "Hub: npm (Node.js) is missing: skipping (the Hub test is skipped)"; \
	else echo "Hub: JupyterHub, configurable-http-proxy (npm) and the shared environment $(HUB_PREFIX)/env (first time ~2 minutes)"; \
	  $(BIN)/python -m pip install -q -e ".[test,hub]" $(QUIET_PIP); \
	  (cd deploy/jupyterhub && npm ci --no-audit --no-fund --loglevel=error); \
	  $(BIN)/python deploy/jupyterhub/setup.py --env-only --prefix $(HUB_PREFIX); fi
	@mkdir -p $(STAMPS) && touch $@

hub: setup hub-deps
	$(BIN)/python deploy/jupyterhub/setup.py --roster $(ROSTER) --prefix $(HUB_PREFIX)
	@echo "The class's Hub: http://$(HUB_IP):$(HUB_PORT)/ (log in with the accounts above; Ctrl-C stops it;"
	@echo "  another port: make hub HUB_PORT=9000; from another machine: ssh -L $(HUB_PORT):localhost:$(HUB_PORT) this-host)"
	NLP_HUB_PREFIX=$(HUB_PREFIX) NLP_HUB_ROSTER=$(abspath $(ROSTER)) NLP_HUB_IP=$(HUB_IP) NLP_HUB_PORT=$(HUB_PORT) \
	  $(BIN)/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

# The course as a website: Sphinx + myst-nb + sphinx-book-theme (pyproject.toml's `site` extra), built offline.
site-setup: $(STAMPS)/site
$(STAMPS)/site: pyproject.toml $(STAMPS)/python
	@echo "Installing the site's book tool (pyproject.toml's site extra: Sphinx, myst-nb, sphinx-book-theme, jieba)"
	$(BIN)/python -m pip install -q -e ".[test,site]" $(QUIET_PIP)
	@mkdir -p $(STAMPS) && touch $@

site: setup site-setup
	$(BIN)/python site/build.py --out _site
	@echo "The site is in _site/ (English: _site/en/index.html, 中文: _site/zh/index.html). To read it:"
	@echo "  $(BIN)/python -m http.server -d _site 8000   then open http://127.0.0.1:8000/"

site-test: setup browser site-setup
	$(BIN)/python -m pytest -q tests/test_site.py

clean:
	rm -rf .grading artifacts .pytest_cache _site
