# syntax=docker/dockerfile:1
# The Rasa server (Python 3.10, rasa 3.6.21, our channel connectors in bot/), with the model trained
# while the image is built. Build from the repository root:
#
#   docker build -f deploy/rasa.Dockerfile -t nordnet-rasa .
#
# Runs `rasa run` the way scripts/stack.py does (deploy/rasa/start.py writes endpoints.yml from the
# environment first). Needs RASA_TOKEN, ACTION_SERVER_TOKEN, TRACKER_STORE_URL and
# WIDGET_SESSION_SECRET (docs/deploying.md).

# ---------------------------------------------------------------- build: environment + training
FROM python:3.10.13-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false

# pip >= 25.1 reads the dependency groups of pyproject.toml (`--group rasa`, pinned there).
RUN python -m venv /opt/venv \
    && pip install "pip==26.3"

WORKDIR /app
COPY pyproject.toml ./
# Every requirement of the group is pinned with == in pyproject.toml (tests/deploy checks it).
# hadolint ignore=DL3013
RUN pip install --group rasa

# Everything that changes the trained model (scripts/stack.py RASA_INPUTS) and what its custom
# components import; the FAQ gives the language detector its neutral words.
COPY config.yml domain.yml ./
COPY data/nlu data/nlu
COPY data/rules data/rules
COPY data/stories data/stories
COPY data/faq data/faq
COPY core core
COPY bot bot
RUN rasa train --data data/nlu data/rules data/stories --domain domain.yml --config config.yml \
        --out models --fixed-model-name nordnet --force \
    && test -f models/nordnet.tar.gz

# ---------------------------------------------------------------- runtime
FROM python:3.10.13-slim-bookworm AS rasa

RUN groupadd --system --gid 10001 nordnet \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin nordnet

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    FAQ_PATH=/app/data/faq

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/models/nordnet.tar.gz models/nordnet.tar.gz
COPY credentials.yml ./
COPY data/faq data/faq
COPY core core
COPY bot bot
COPY scripts/__init__.py scripts/stack.py scripts/
COPY deploy/rasa/start.py deploy/rasa/start.py

USER 10001:10001
EXPOSE 5005
# Rasa answers GET / once the model is loaded (about 20-60 s after the start).
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/', timeout=4)"]
ENTRYPOINT ["python", "deploy/rasa/start.py"]
