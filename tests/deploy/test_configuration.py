"""Every setting reaches the deployed services: .env.example's variables and the ones the code reads."""

from __future__ import annotations

import re

import yaml

from tests.deploy.files import COMPOSE, DEPLOY, KUBERNETES, ROOT, env_file_names

# The packages that run inside the three images, and the runners of `make run`, `make run-prod`, `make test`.
SERVICE_PACKAGES = ("bot", "actions", "handoff", "knowledge_base", "core")
RUNNER_PACKAGES = ("scripts",)
# Read by the code, deliberately left out of the ConfigMap, the Secret and compose: the code's default
# is what a deployment wants, or the image sets it (the Dockerfiles' ENV), or it is for tests and
# development only. A new variable must be added to the deployment or here, with its reason.
LEFT_TO_DEFAULTS = {
    "HANDOFF_DEMO_ADMIN_EMAIL": "demo accounts: off in production (HANDOFF_DEMO_AGENTS=0)",
    "HANDOFF_DEMO_ADMIN_PASSWORD": "demo accounts: off in production",
    "HANDOFF_DEMO_AGENT_EMAIL": "demo accounts: off in production",
    "HANDOFF_DEMO_AGENT_PASSWORD": "demo accounts: off in production",
    "HANDOFF_LANGUAGES": "de,en, the languages the bot is trained in",
    "HANDOFF_LOG_LEVEL": "INFO",
    "HANDOFF_MAX_BODY_BYTES": "a tunable limit with a safe default",
    "HANDOFF_PRESENCE_TIMEOUT": "a tunable with a safe default",
    "HANDOFF_CALLBACK_RETRY_MINUTES": "a tunable with a safe default",
    "HANDOFF_CALLBACK_MAX_ATTEMPTS": "a tunable with a safe default",
    "HANDOFF_MAX_OPEN_CALLBACKS": "a tunable with a safe default",
    "HANDOFF_LOGIN_LIMIT": "rate limits: safe defaults; their counters are shared (HANDOFF_RATELIMIT_STORAGE)",
    "HANDOFF_API_LIMIT": "rate limits: safe defaults",
    "HANDOFF_CONSOLE_LIMIT": "rate limits: safe defaults",
    "HANDOFF_START_WORKER": "every handoff pod runs the outbox worker (database locks keep it single)",
    "HANDOFF_BIND": "the image's gunicorn command binds 0.0.0.0:8000",
    "HANDOFF_WORKERS": "gunicorn workers per pod (default 2); scale with replicas",
    "HANDOFF_WORKER_CONNECTIONS": "gevent connections per worker, default 2000",
    "BOT_MESSAGES_PER_MINUTE": "per-customer throttle with a safe default",
    "KB_ANSWER_THRESHOLD": "calibrated defaults (knowledge_base/settings.py)",
    "KB_CLARIFY_THRESHOLD": "calibrated defaults",
    "KB_ANSWER_THRESHOLD_DE": "calibrated defaults",
    "KB_ANSWER_THRESHOLD_EN": "calibrated defaults",
    "KB_CHECK_SOURCES": "on: the index and the FAQ in the image are built together",
    "KB_ENCODER": "the index remembers its encoder",
    "KB_FINE_TUNE": "build time only: the index (and a tuned encoder) is built before it is deployed",
    "KB_ENCODER_CACHE": "image ENV: /tmp/kb-encoders",
    "KB_EXAMPLES_CACHE": "default under $HOME/.cache; the images' HOME is /tmp",
    "SANIC_HOST": "image ENV of the action server: 0.0.0.0",
    "OMP_NUM_THREADS": "the encoder's thread count follows the pod's CPUs",
    "XDG_CACHE_HOME": "unused when KB_ENCODER_CACHE is set (image ENV)",
    "RASA_PORT": "make run's ports; the images listen on the default ports",
    "ACTIONS_PORT": "make run's ports",
    "HANDOFF_PORT": "make run's ports",
    "AUDIT_REQUIRED": "make audit sets it; a test-time switch",
}
# Names that look like variables in the scan but are something else.
NOT_VARIABLES = {"EVENT_RECEIVED"}
# The platform's own variables, which the code honours but does not define: not in .env.example.
PLATFORM_VARIABLES = {"OMP_NUM_THREADS", "XDG_CACHE_HOME", "PYTHONWARNINGS"}


def env_example() -> list[str]:
    return env_file_names(ROOT / ".env.example")


def kubernetes_config() -> set[str]:
    configmap = yaml.safe_load((KUBERNETES / "configmap.yaml").read_text())
    return set(configmap["data"]) | set(env_file_names(KUBERNETES / "secrets.env.example"))


def compose_config() -> set[str]:
    compose = yaml.safe_load(COMPOSE.read_text())
    return set(compose["x-config"]) | set(env_file_names(DEPLOY / "secrets.env.example"))


def variables_read_by_the_services(packages: tuple[str, ...] = SERVICE_PACKAGES) -> set[str]:
    """Names the code reads from the environment (os.environ, getenv, env.get, core.env.Env's readers)."""
    readers = "raw|is_set|text|integer|number|flag|choice|words|checked"
    pattern = re.compile(
        rf"""(?:environ(?:\.get)?\(|environ\[|getenv\(|env\.get\(|\b(?:{readers})\()"""
        r"""\s*["']([A-Z][A-Z0-9_]{2,})["']"""
    )
    names = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names - NOT_VARIABLES


def test_env_example_is_what_the_tests_read():
    names = env_example()
    assert {"DATABASE_URL", "SECRET_KEY", "RASA_TOKEN", "ACTION_SERVER_TOKEN", "FB_APP_SECRET"} <= set(names)
    assert len(names) == len(set(names))


def test_env_example_names_every_variable_the_code_reads():
    read = variables_read_by_the_services(SERVICE_PACKAGES + RUNNER_PACKAGES)
    assert {"HANDOFF_LANGUAGES", "KB_ANSWER_THRESHOLD", "FB_APP_SECRET", "RASA_PORT"} <= read  # the scan works
    missing = sorted(read - set(env_example()) - PLATFORM_VARIABLES)
    assert not missing, f"add to .env.example, with its default and a one-line explanation: {missing}"


def test_every_variable_of_env_example_is_in_the_configmap_or_the_secret():
    missing = [name for name in env_example() if name not in kubernetes_config() | set(LEFT_TO_DEFAULTS)]
    assert not missing, f"add to deploy/kubernetes/configmap.yaml or secrets.env.example: {missing}"


def test_every_variable_of_env_example_is_set_in_compose():
    missing = [name for name in env_example() if name not in compose_config() | set(LEFT_TO_DEFAULTS)]
    assert not missing, f"add to deploy/compose.yaml (x-config) or deploy/secrets.env.example: {missing}"


def test_secrets_are_never_in_the_configmap():
    configmap = yaml.safe_load((KUBERNETES / "configmap.yaml").read_text())["data"]
    secretish = [k for k in configmap if re.search(r"SECRET|TOKEN|PASSWORD|DATABASE_URL|STORE_URL|QUEUE", k)]
    assert not secretish


def test_every_variable_the_services_read_is_deployed_or_deliberately_defaulted():
    read = variables_read_by_the_services()
    assert {"DATABASE_URL", "ACTION_SERVER_TOKEN", "WIDGET_SESSION_SECRET", "HANDOFF_URL"} <= read  # the scan works
    deployed = kubernetes_config() | compose_config() | {"RASA_TOKEN"}
    unknown = sorted(read - deployed - set(LEFT_TO_DEFAULTS))
    assert not unknown, (
        f"new settings: deploy them (deploy/kubernetes, deploy/compose.yaml) or list them in LEFT_TO_DEFAULTS: {unknown}"
    )


def test_compose_and_kubernetes_agree_on_the_secret_names():
    compose_secrets = set(env_file_names(DEPLOY / "secrets.env.example")) - {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}
    kubernetes_secrets = set(env_file_names(KUBERNETES / "secrets.env.example"))
    # compose builds the URLs from the two passwords; Kubernetes takes them whole.
    urls = {
        "DATABASE_URL",
        "TRACKER_STORE_URL",
        "LOCK_STORE_URL",
        "SOCKETIO_MESSAGE_QUEUE",
        "HANDOFF_RATELIMIT_STORAGE",
    }
    assert compose_secrets == kubernetes_secrets - urls
