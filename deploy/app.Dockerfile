# syntax=docker/dockerfile:1
# The action server and the handoff service: one Python 3.11 environment and one knowledge-base
# index, built once, two images. Build from the repository root:
#
#   docker build -f deploy/app.Dockerfile --target actions -t nordnet-actions .
#   docker build -f deploy/app.Dockerfile --target handoff -t nordnet-handoff .
#
# The FAQ index (data/faq -> /app/kb_index, encoder included) is built here, so a container starts
# without building anything and loads nothing from the network.

# ---------------------------------------------------------------- the chat widget's bundle (npm)
FROM node:20.20.2-bookworm-slim AS webchat
WORKDIR /src/web
COPY web/package.json web/package-lock.json web/build.mjs ./
# `npm ci` runs build.mjs (postinstall), which copies the bundle to ../handoff/web/static/webchat/.
RUN npm ci --no-audit --no-fund --loglevel=error \
    && test -s /src/handoff/web/static/webchat/webchat.js

# ---------------------------------------------------------------- build: environment + FAQ index
FROM python:3.11.7-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    KB_ENCODER_CACHE=/tmp/kb-encoders

RUN python -m venv /opt/venv \
    && pip install "pip==26.3"

WORKDIR /app
COPY pyproject.toml ./
# torch's CPU build first (the Linux wheel on PyPI pulls several GB of CUDA libraries), at the
# version pyproject.toml pins; the app group then finds it installed. Every requirement of the group
# is pinned with == in pyproject.toml (tests/deploy checks it, and that TORCH_VERSION matches).
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# hadolint ignore=DL3013
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}" \
    && pip install --group app

COPY core core
COPY knowledge_base knowledge_base
COPY data/faq data/faq
# Validates the FAQ (a broken source fails the build) and writes the index with its encoder.
RUN python -m knowledge_base build --faq data/faq --index-dir /app/kb_index --no-progress \
    && test -f /app/kb_index/manifest.json
# The action server compares questions with the NLU examples (actions/requests.py): encoded here once, with the
# index's own encoder, instead of at every start of every pod (half a minute on two cores).
COPY data/nlu data/nlu
COPY actions/__init__.py actions/requests.py actions/
RUN KB_EXAMPLES_CACHE=/app/examples-cache python -c "from actions.requests import warm_cache; warm_cache('/app/kb_index')" \
    && test -n "$(ls /app/examples-cache)"

# ---------------------------------------------------------------- common runtime
FROM python:3.11.7-slim-bookworm AS app

RUN groupadd --system --gid 10001 nordnet \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin nordnet

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HOME=/tmp \
    KB_ENCODER_CACHE=/tmp/kb-encoders \
    FAQ_PATH=/app/data/faq \
    KB_INDEX_DIR=/app/kb_index

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY core core
COPY knowledge_base knowledge_base
# Owned by the service user: the handoff service writes published FAQ entries to both (the
# Kubernetes manifests copy them to a volume instead, the root file system staying read-only).
COPY --chown=10001:10001 data/faq data/faq
COPY --from=build --chown=10001:10001 /app/kb_index kb_index

# ---------------------------------------------------------------- action server (port 5055)
FROM app AS actions

ENV SANIC_HOST=0.0.0.0 \
    KB_EXAMPLES_CACHE=/app/examples-cache
COPY actions actions
# Requests for a person and off-topic questions are recognised by the NLU examples (actions/requests.py), questions
# about other companies' services by their names.
COPY data/nlu data/nlu
COPY data/other_companies.yml data/other_companies.yml
COPY --from=build /app/examples-cache /app/examples-cache

USER 10001:10001
EXPOSE 5055
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
CMD ["python", "-m", "actions.server", "--actions", "actions", "--port", "5055"]

# ---------------------------------------------------------------- handoff service (port 8000)
FROM app AS handoff

# Fail closed: production refuses development secrets and demo accounts (handoff/settings.py).
ENV HANDOFF_ENV=production \
    HANDOFF_DEMO_AGENTS=0
COPY handoff handoff
# The insight page tells requests for a person and small talk from questions by the NLU examples.
COPY data/nlu data/nlu
COPY --from=webchat /src/handoff/web/static/webchat handoff/web/static/webchat
# The migration Job / compose service: schema migrations, then the admin account.
COPY deploy/app/migrate.sh /usr/local/bin/nordnet-migrate

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# As scripts/prod.py runs it: gevent workers (handoff/gunicorn.conf.py; HANDOFF_WORKERS, default 2).
# GUNICORN_CMD_ARGS adds or overrides options.
CMD ["gunicorn", "--config", "handoff/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/tmp", \
     "handoff.wsgi:app"]
