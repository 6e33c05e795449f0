"""Settings of the handoff service, read once from the environment, failing fast on bad values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from core.env import Env
from core.vocabulary import LANGUAGES, MAX_TEXT_CHARS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
DEV_API_TOKEN = "dev-handoff-token"
DEV_PASSWORDS = ("admin-demo", "agent-demo")
MIN_PRODUCTION_SECRET = 32
NO_TRACKER_STORE = ("memory", "none")


class SettingsError(ValueError):
    """The environment asks for something the service cannot run with."""


def default_database_url() -> str:
    return f"sqlite:///{REPO_ROOT / 'var' / 'handoff.db'}"


def default_tracker_store_url() -> str:
    """The SQLite tracker store `make run` and the committed endpoints.yml give Rasa."""
    return f"sqlite:///{REPO_ROOT / 'var' / 'tracker.db'}"


@dataclass(frozen=True)
class Settings:
    """Everything the service needs from outside; one object per process."""

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = DEV_SECRET_KEY
    environment: str = "development"
    rasa_url: str = "http://localhost:5005"
    rasa_token: str | None = None
    rasa_public_url: str = "http://localhost:5005"  # where browsers reach Rasa's socket.io (the chat widget)
    api_token: str = DEV_API_TOKEN
    demo_agents: bool = True
    demo_admin_email: str = "admin@nordnet.example"
    demo_admin_password: str = "admin-demo"
    demo_agent_email: str = "agent@nordnet.example"
    demo_agent_password: str = "agent-demo"
    default_timezone: str = "Europe/Berlin"
    languages: tuple[str, ...] = LANGUAGES
    max_body_bytes: int = 256 * 1024
    max_text_chars: int = MAX_TEXT_CHARS  # the channels cut customers' messages to the same length
    presence_timeout_seconds: int = 120
    outbox_give_up_seconds: int = 24 * 3600
    callback_retry_minutes: int = 60
    callback_max_attempts: int = 3
    secure_cookies: bool = False
    tracker_store_url: str | None = None  # Rasa's SQLTrackerStore; None = trackers live only in Rasa's memory
    retention_days: int = 0  # 0 = keep conversations until deleted by hand
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    lockout_failures: int = 5
    lockout_minutes: int = 30  # 0 = locked until an admin unlocks the account
    # Rate limits (Flask-Limiter's notation) and where their counters live: memory:// is per process;
    # with several gunicorn workers or machines use redis://… so the limits hold across them.
    ratelimit_storage: str = "memory://"
    login_limit: str = "10 per minute; 50 per hour"
    api_limit: str = "20000 per minute"  # a flood guard: the callers are action servers with the API token
    console_limit: str = "300 per minute"
    trusted_proxies: int = 0  # reverse-proxy hops whose X-Forwarded-For/-Proto are believed (ProxyFix)
    max_open_callbacks: int = 3  # open callback requests per phone number / e-mail address / customer

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read HANDOFF_*, DATABASE_URL, TRACKER_STORE_URL, RASA_URL, RASA_PUBLIC_URL, RASA_TOKEN and SECRET_KEY.

        Raises one SettingsError listing every problem; in production no development secret is accepted.
        """
        env = Env(environ)
        environment = env.choice("HANDOFF_ENV", "development", ("development", "test", "production"))
        production = environment == "production"
        rasa_url = env.text("RASA_URL", cls.rasa_url).rstrip("/")
        tracker_store_url = env.text("TRACKER_STORE_URL", default_tracker_store_url())
        settings = cls(
            database_url=env.text("DATABASE_URL", default_database_url()),
            secret_key=env.text("SECRET_KEY", DEV_SECRET_KEY),
            environment=environment,
            rasa_url=rasa_url,
            rasa_token=env.text("RASA_TOKEN"),
            rasa_public_url=env.text("RASA_PUBLIC_URL", rasa_url).rstrip("/"),
            api_token=env.text("HANDOFF_API_TOKEN", DEV_API_TOKEN),
            demo_agents=env.flag("HANDOFF_DEMO_AGENTS", not production),
            demo_admin_email=env.text("HANDOFF_DEMO_ADMIN_EMAIL", cls.demo_admin_email).lower(),
            demo_admin_password=env.text("HANDOFF_DEMO_ADMIN_PASSWORD", cls.demo_admin_password),
            demo_agent_email=env.text("HANDOFF_DEMO_AGENT_EMAIL", cls.demo_agent_email).lower(),
            demo_agent_password=env.text("HANDOFF_DEMO_AGENT_PASSWORD", cls.demo_agent_password),
            default_timezone=env.checked(
                "BUSINESS_TIMEZONE", cls.default_timezone, _known_time_zone, "is not a known time zone"
            ),
            languages=env.words("HANDOFF_LANGUAGES", LANGUAGES, what="language"),
            max_body_bytes=env.integer("HANDOFF_MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024),
            presence_timeout_seconds=env.integer("HANDOFF_PRESENCE_TIMEOUT", cls.presence_timeout_seconds, 10),
            callback_retry_minutes=env.integer("HANDOFF_CALLBACK_RETRY_MINUTES", cls.callback_retry_minutes, 1),
            callback_max_attempts=env.integer("HANDOFF_CALLBACK_MAX_ATTEMPTS", cls.callback_max_attempts, 1),
            secure_cookies=env.flag("HANDOFF_SECURE_COOKIES", production),
            tracker_store_url=None if tracker_store_url.lower() in NO_TRACKER_STORE else tracker_store_url,
            retention_days=env.integer("HANDOFF_RETENTION_DAYS", 180 if production else 0),
            session_idle_minutes=env.integer("HANDOFF_SESSION_IDLE_MINUTES", cls.session_idle_minutes, 1),
            session_max_hours=env.integer("HANDOFF_SESSION_MAX_HOURS", cls.session_max_hours, 1),
            lockout_failures=env.integer("HANDOFF_LOCKOUT_FAILURES", cls.lockout_failures, 1),
            lockout_minutes=env.integer("HANDOFF_LOCKOUT_MINUTES", cls.lockout_minutes),
            ratelimit_storage=env.text("HANDOFF_RATELIMIT_STORAGE", cls.ratelimit_storage),
            login_limit=env.text("HANDOFF_LOGIN_LIMIT", cls.login_limit),
            api_limit=env.text("HANDOFF_API_LIMIT", cls.api_limit),
            console_limit=env.text("HANDOFF_CONSOLE_LIMIT", cls.console_limit),
            trusted_proxies=env.integer("HANDOFF_TRUSTED_PROXIES", cls.trusted_proxies),
            max_open_callbacks=env.integer("HANDOFF_MAX_OPEN_CALLBACKS", cls.max_open_callbacks, 1),
        )
        problems = env.problems + (_production_problems(env, settings) if production else [])
        if problems:
            raise SettingsError("Invalid handoff settings:\n  " + "\n  ".join(problems))
        return settings


def _known_time_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception:  # noqa: BLE001 - any failure means the name is unusable
        return False
    return True


def _production_problems(env: Env, settings: Settings) -> list[str]:
    """What production refuses: missing, development or short secrets, and the public demo logins."""
    problems = []
    for name, value, default in (
        ("SECRET_KEY", settings.secret_key, DEV_SECRET_KEY),
        ("HANDOFF_API_TOKEN", settings.api_token, DEV_API_TOKEN),
    ):
        if not env.is_set(name):
            problems.append(f"{name} must be set when HANDOFF_ENV=production")
        elif value == default:
            problems.append(f"{name} must not be the development default in production")
        elif len(value) < MIN_PRODUCTION_SECRET:
            problems.append(
                f"{name} must be at least {MIN_PRODUCTION_SECRET} characters in production "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    if settings.demo_agents:
        problems.append("HANDOFF_DEMO_AGENTS must be 0 in production (the demo logins are public)")
    for name in ("HANDOFF_DEMO_ADMIN_PASSWORD", "HANDOFF_DEMO_AGENT_PASSWORD"):
        if env.raw(name) in DEV_PASSWORDS:
            problems.append(f"{name} must not be a demo password in production")
    if settings.rasa_token in (DEV_SECRET_KEY, DEV_API_TOKEN):
        problems.append("RASA_TOKEN must not be a development default in production")
    return problems
