"""Settings shared by every environment, driven by environment variables (django-environ).

`.data/services.env`, written by `scripts/services.py` when it starts the embedded PostgreSQL
and Redis, is read too; variables set in the real environment always win.
"""

from pathlib import Path
from urllib.parse import urlsplit

import django
import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class SecretFiles(environ.FileAwareMapping):
    """The environment, where `<NAME>_FILE` (a Kubernetes/Docker secret or a file Vault Agent
    writes) wins over `NAME`; the file's trailing newline is not part of the value."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        return value.rstrip("\r\n") if self.env.get(key + "_FILE") else value


class HubEnv(environ.Env):
    ENVIRON = SecretFiles()


env = HubEnv()
HubEnv.read_env(BASE_DIR / ".data" / "services.env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")

# --- Tenancy -------------------------------------------------------------------------------
# Tenants live at <slug>.<HUB_BASE_DOMAIN>; the public site at the bare base domain.
HUB_BASE_DOMAIN = env("HUB_BASE_DOMAIN", default="localhost:8000")
HUB_BASE_HOSTNAME = HUB_BASE_DOMAIN.split(":")[0]
HUB_SCHEME = env("HUB_SCHEME", default="http")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[HUB_BASE_HOSTNAME, f".{HUB_BASE_HOSTNAME}"])

# The hub's own apps. Adding an app to the hub is adding it here: its apps.py says whether its
# tables live in the public schema (Schema.SHARED) or in each tenant's (Schema.TENANT), and
# SHARED_APPS and TENANT_APPS below are derived from that.
HUB_APPS = [
    "apps.core",
    "apps.tenancy",
    "apps.identity",
    "apps.ops",
    "apps.flags.platform",
    "apps.billing",
    "apps.events",
    "apps.notifications",
    "apps.api",
    "apps.analytics",
    "apps.content",
    "apps.flags",
    "apps.workflow",
    "apps.integrations",
    "apps.compliance",
    "apps.security",
    "apps.marketplace",
]
# Plugins enabled on this platform (comma-separated module names, e.g. "plugins.hello"); pip-
# installed plugins found by their `reactdjango_hub.plugins` entry point are added to them.
HUB_PLUGINS = env.list("HUB_PLUGINS", default=[])
# Third-party apps in the public schema. (The hub's SHARED apps come first, so their management
# commands, such as create_tenant and delete_tenant, take precedence over django-tenants'.)
THIRD_PARTY_SHARED_APPS = [
    "django_tenants",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the widgets' templates, for the site's form renderer (FORM_RENDERER)
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp_webauthn",
    "djangosaml2",
    "auditlog",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]
# Third-party apps in each tenant's schema: each tenant keeps its own audit log (changes made
# while serving a tenant land there).
THIRD_PARTY_TENANT_APPS = ["django.contrib.contenttypes", "auditlog"]


def app_lists(hub_apps: list[str], plugins: list[str]) -> tuple[list[str], list[str], list[str]]:
    """SHARED_APPS, TENANT_APPS and INSTALLED_APPS from the hub's apps and plugins, each placed by
    the schema its config declares."""
    from apps.core.appconfig import split_by_schema
    from apps.core.plugins import discover

    shared, tenant = split_by_schema([*hub_apps, *discover(plugins)])
    shared_apps = [*shared, *THIRD_PARTY_SHARED_APPS]
    tenant_apps = [*THIRD_PARTY_TENANT_APPS, *tenant]
    return shared_apps, tenant_apps, shared_apps + [app for app in tenant_apps if app not in shared_apps]


SHARED_APPS, TENANT_APPS, INSTALLED_APPS = app_lists(HUB_APPS, HUB_PLUGINS)

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# A plugin's tables only in the tenants that enabled it (apps.marketplace.migrating).
DATABASE_ROUTERS = [
    "apps.core.replicas.ReplicaRouter",
    "apps.marketplace.migrating.PluginRouter",
    "django_tenants.routers.TenantSyncRouter",
]
# How often (seconds) a process checks Redis for tenant/domain changes that drop its routing cache.
HUB_ROUTING_RECHECK_SECONDS = env.float("HUB_ROUTING_RECHECK_SECONDS", default=1.0)
# Issue SET search_path only when the schema changes, not before every query.
TENANT_LIMIT_SET_CALLS = True
# Provisioned schemas are dropped with their tenant (delete_tenant, failed provisioning).
RESERVED_TENANT_SLUGS = {
    "www",
    "api",
    "admin",
    "public",
    "static",
    "media",
    "mail",
    "smtp",
    "ftp",
    "app",
    "apps",
    "auth",
    "login",
    "signup",
    "accounts",
    "account",
    "help",
    "support",
    "status",
    "docs",
    "blog",
    "dashboard",
    "hub",
    "root",
    "system",
    "assets",
    "cdn",
    "ws",
    "internal",
    "demo-template",
}

MIDDLEWARE = [
    # First of all: the health probes and /metrics for any Host header; every other request gets
    # its request id (X-Request-ID) and is measured (apps.ops).
    "apps.ops.middleware.OpsMiddleware",
    # Outermost: whatever answers under /api/ (routing errors, 404, 500) goes out as problem+json.
    "apps.api.middleware.ProblemJsonMiddleware",
    "apps.tenancy.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.middleware.TimeZoneMiddleware",
    "apps.identity.middleware.LazyOTPMiddleware",
    "djangosaml2.middleware.SamlSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "apps.identity.middleware.SecurityPolicyMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # A plugin's pages and API answer 404 in a tenant that has not enabled it.
    "apps.marketplace.middleware.PluginGateMiddleware",
    # With read replicas: safe requests read from one, whoever wrote reads the primary (apps.core.replicas).
    "apps.core.middleware.ReplicaMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's own templates come before django-tenants' versions of admin/index.html and
        # admin/app_list.html, whose inline <style> and style="" the Content-Security-Policy refuses.
        "DIRS": [BASE_DIR / "templates", Path(django.__file__).parent / "contrib/admin/templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.identity.context_processors.shell",
                "apps.notifications.context_processors.bell",
                "apps.analytics.context_processors.page_views",
                "apps.billing.context_processors.plan_limits",
            ],
        },
    }
]

# One form renderer for the whole site: labels, help and errors placed alike (apps/core/templates/core/forms/).
FORM_RENDERER = "apps.core.forms.HubFormRenderer"

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database --------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/hub")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# Another database on the same server (the tests' live servers and workers use the test database).
DATABASES["default"]["NAME"] = env("DATABASE_NAME", default=DATABASES["default"]["NAME"])
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# What pg_stat_activity shows for the hub's connections (an application_name in DATABASE_URL wins).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "application_name", env("DATABASE_APPLICATION_NAME", default="reactdjango-hub")
)
# Each process keeps its connections in a pool of at most DATABASE_POOL_MAX_SIZE (psycopg_pool, through
# Django). Under the ASGI server every request runs in a thread of its own, so connections kept per
# thread (CONN_MAX_AGE > 0) would pile up, one per request, until garbage collection. A request takes a
# pooled connection at its first query and gives it back when it ends; one that waits
# DATABASE_POOL_TIMEOUT seconds for a connection is answered 503 (apps.core.views.server_error).
# DATABASE_POOL_MAX_SIZE=0 turns the pool off (behind PgBouncer: see README) and opens a connection
# per request instead. Celery's prefork children use no pool (config.celery).
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=10)
if DATABASE_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections, not Django
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "name": "hub",
        "min_size": min(env.int("DATABASE_POOL_MIN_SIZE", default=2), DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        # A backend's caches grow with every schema it touches: renew connections every 10 minutes.
        "max_lifetime": env.float("DATABASE_POOL_MAX_LIFETIME", default=600.0),
        # No `reset` callback: django-tenants sets the tenant's search_path on the first query after
        # every checkout (its wrapper forgets the schema it set when it gives a connection back), and
        # psycopg_pool would run one in a background thread, dropping a connection given back just
        # before the pool closes without closing it.
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
# Read replicas (apps.core.replicas; docs/operations/replicas-and-streams.md): streaming replicas of the
# primary, comma-separated database URLs, each an alias replica1, replica2, … with the primary's
# engine and options (a pool of its own). Safe requests and selectors marked @replica_ok read from
# them; whoever changed something reads the primary for HUB_DATABASE_REPLICA_PIN_SECONDS after.
# None (the default): every query goes to the primary.
HUB_DATABASE_REPLICAS = []
# A replica that does not answer within this many seconds (to connect, or for a pooled connection) is
# left out for HUB_DATABASE_REPLICA_RETRY_SECONDS: reads go to the other replicas or to the primary.
HUB_DATABASE_REPLICA_TIMEOUT = env.float("HUB_DATABASE_REPLICA_TIMEOUT", default=2.0)
HUB_DATABASE_REPLICA_RETRY_SECONDS = env.float("HUB_DATABASE_REPLICA_RETRY_SECONDS", default=30.0)
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    _alias = f"replica{_number}"
    _replica = {**env.db_url_config(_url), "ENGINE": DATABASES["default"]["ENGINE"]}
    _replica["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], **_replica.get("OPTIONS", {})}
    if "pool" in _replica["OPTIONS"]:
        _replica["OPTIONS"]["pool"] = {
            **_replica["OPTIONS"]["pool"],
            "name": f"hub-{_alias}",
            "timeout": HUB_DATABASE_REPLICA_TIMEOUT,
        }
    _replica["OPTIONS"].setdefault("connect_timeout", max(1, int(HUB_DATABASE_REPLICA_TIMEOUT)))
    _replica.update(
        CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=True, TEST={"MIRROR": "default"}
    )
    DATABASES[_alias] = _replica
    HUB_DATABASE_REPLICAS.append(_alias)
HUB_DATABASE_REPLICA_PIN_SECONDS = env.float("HUB_DATABASE_REPLICA_PIN_SECONDS", default=10.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The external event stream (apps.events.streaming; docs/operations/replicas-and-streams.md) -----
# Every domain event of every tenant is also published there, on <prefix>.<tenant slug>.<event type>,
# at least once and in order per tenant. Empty (the default): off. nats://host:4222 → NATS JetStream,
# kafka://host:9092 → Kafka.
HUB_EVENT_STREAM_URL = env("HUB_EVENT_STREAM_URL", default="")
HUB_EVENT_STREAM_NAME = env("HUB_EVENT_STREAM_NAME", default="HUB_EVENTS")
HUB_EVENT_STREAM_SUBJECT_PREFIX = env("HUB_EVENT_STREAM_SUBJECT_PREFIX", default="hub.events")
# A stream the hub creates drops a message whose id it has seen within this window (a re-send).
HUB_EVENT_STREAM_DUPLICATE_WINDOW_SECONDS = env.float("HUB_EVENT_STREAM_DUPLICATE_WINDOW_SECONDS", default=600.0)
# kafka://host:9092 → this topic (default: the subject prefix), keyed by tenant slug; the hub does not create it.
HUB_EVENT_STREAM_KAFKA_TOPIC = env("HUB_EVENT_STREAM_KAFKA_TOPIC", default="")
HUB_EVENT_STREAM_BATCH = env.int("HUB_EVENT_STREAM_BATCH", default=500)
HUB_EVENT_STREAM_ACK_TIMEOUT_SECONDS = env.float("HUB_EVENT_STREAM_ACK_TIMEOUT_SECONDS", default=5.0)

# --- Redis: one server, one logical database per client --------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_DB_CACHE, REDIS_DB_CELERY, REDIS_DB_CHANNELS = env.list("REDIS_DBS", cast=int, default=[1, 2, 3])


def redis_url_for(client, db):
    """The REDIS_URL spelled the way each client library wants it (they differ for unix sockets)."""
    parts = urlsplit(REDIS_URL)
    if parts.scheme == "unix":
        if client == "kombu":
            return f"redis+socket://{parts.path}?virtual_host={db}"
        return f"unix://{parts.path}?db={db}"
    return f"{parts.scheme}://{parts.netloc}/{db}"


# --- Observability (apps.ops; docs/operations/observability.md) ----------------------------
# Prometheus metrics: the counters and timings, and /metrics (off: neither).
HUB_METRICS_ENABLED = env.bool("HUB_METRICS_ENABLED", default=True)
# /metrics answers a direct request from these networks, or any request with
# `Authorization: Bearer <HUB_METRICS_TOKEN>`; a 404 otherwise.
HUB_METRICS_ALLOWED_NETWORKS = env.list(
    "HUB_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
)
HUB_METRICS_TOKEN = env("HUB_METRICS_TOKEN", default="")
# A Celery worker serves its own /metrics on this port (0: it does not; same rules as above).
HUB_METRICS_WORKER_PORT = env.int("HUB_METRICS_WORKER_PORT", default=0)
# OpenTelemetry traces (apps.ops.tracing): on when an OTLP endpoint is set, unless turned off
# here; OTEL_SDK_DISABLED=true also turns them off. The SDK reads the other OTEL_* variables.
_OTLP_SET = bool(
    env("OTEL_EXPORTER_OTLP_ENDPOINT", default="") or env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", default="")
)
HUB_TRACING_ENABLED = env.bool("HUB_TRACING_ENABLED", default=_OTLP_SET) and not env.bool(
    "OTEL_SDK_DISABLED", default=False
)
# The share of traces kept when OTEL_TRACES_SAMPLER is not set: a request (or a task started
# outside any trace) starts a kept trace this often, and everything it causes follows its choice
# (parent-based). Every trace in development and tests; production keeps one in ten
# (config/settings/production.py), since a recorded span costs about 75 µs of CPU.
HUB_TRACING_SAMPLE_RATIO = env.float("HUB_TRACING_SAMPLE_RATIO", default=1.0)
# The service name traces carry when OTEL_SERVICE_NAME is not set.
HUB_TRACING_SERVICE_NAME = env("HUB_TRACING_SERVICE_NAME", default="hub")
# Cached selectors (apps.core.caching; docs/operations/caching.md): off reads the database every time.
HUB_SELECTOR_CACHE_ENABLED = env.bool("HUB_SELECTOR_CACHE_ENABLED", default=True)
# A span per SQL statement (the most telling spans of a slow page, and half of the spans of a
# small one: turn them off to halve tracing's cost).
HUB_TRACING_SQL = env.bool("HUB_TRACING_SQL", default=True)
# A span per Redis command too (many spans: off unless you look for Redis time).
HUB_TRACING_REDIS = env.bool("HUB_TRACING_REDIS", default=False)
# The readiness checks wait this long at most (a check still running then counts as failing).
HUB_HEALTH_TIMEOUT_SECONDS = env.float("HUB_HEALTH_TIMEOUT_SECONDS", default=3.0)
# Beat sends its heartbeat this often; older than HUB_HEALTH_BEAT_MAX_AGE_SECONDS, the check fails.
HUB_HEALTH_BEAT_SECONDS = env.float("HUB_HEALTH_BEAT_SECONDS", default=30.0)
HUB_HEALTH_BEAT_MAX_AGE_SECONDS = env.float("HUB_HEALTH_BEAT_MAX_AGE_SECONDS", default=3 * HUB_HEALTH_BEAT_SECONDS)
# Log lines: "console" (coloured, for people) or "json" (one object per line; production's default).
HUB_LOG_FORMAT = env("HUB_LOG_FORMAT", default="console")
# Sentry, opt-in: errors and ERROR log lines are sent there when this is set.
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
if SENTRY_DSN:
    from apps.ops import sentry

    sentry.init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=env("HUB_VERSION", default="") or None)

CACHE_BACKEND = "apps.ops.cache.InstrumentedRedisCache" if HUB_METRICS_ENABLED else "django_redis.cache.RedisCache"
CACHES = {
    "default": {
        "BACKEND": CACHE_BACKEND,
        "LOCATION": redis_url_for("redis", REDIS_DB_CACHE),
        # Every key carries the schema of the tenant being served (but HUB_CACHE_PLATFORM_WIDE_KEYS).
        "KEY_FUNCTION": "apps.tenancy.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

# Keys starting with these count the same on every host: allauth's rate limits (log-in failures,
# log-in codes, emails sent) are per person or IP address across all tenants, not per tenant. The
# cached selectors' entries and topic versions (apps.core.caching) name their tenant's schema
# themselves, so a bump made from another schema's context (a public-site flow that publishes a
# tenant's event) reaches the same key.
HUB_CACHE_PLATFORM_WIDE_KEYS = ("allauth:rl:", "hub:sel:", "hub:cachever:")

# Sessions get a cache of their own without the tenant prefix: a session is one per host, and
# websockets load it from threads whose schema is not the request's.
CACHES["sessions"] = {
    "BACKEND": CACHE_BACKEND,
    "LOCATION": CACHES["default"]["LOCATION"],
    "KEY_PREFIX": "sessions",
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
}
SESSION_CACHE_ALIAS = "sessions"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "apps.events.layers.HubChannelLayer",
        "CONFIG": {"hosts": [{"address": redis_url_for("redis", REDIS_DB_CHANNELS)}]},
    }
}

# --- Celery (tenant-schemas-celery carries the sender's schema to the worker) ----------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=redis_url_for("kombu", REDIS_DB_CELERY))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Beat's schedule is the registry's periodic tasks (config/celery.py); entries here are added to it.
CELERY_BEAT_SCHEDULE = {}

# --- Workflow (apps.workflow) -------------------------------------------------------------------
# Runs going at once in one tenant (each workflow has its own limit too); more wait, queued.
HUB_WORKFLOW_TENANT_CONCURRENCY = env.int("HUB_WORKFLOW_TENANT_CONCURRENCY", default=20)
# How often beat sends the recovery sweep (steps of a dead worker, lost tasks, waits that are due).
HUB_WORKFLOW_RECOVERY_SECONDS = env.float("HUB_WORKFLOW_RECOVERY_SECONDS", default=15.0)
# A running step is free again this long after its timeout (its worker died); a pending step whose
# task was lost is sent again after HUB_WORKFLOW_RESEND_AFTER_SECONDS.
HUB_WORKFLOW_LEASE_GRACE_SECONDS = env.float("HUB_WORKFLOW_LEASE_GRACE_SECONDS", default=30.0)
HUB_WORKFLOW_RESEND_AFTER_SECONDS = env.float("HUB_WORKFLOW_RESEND_AFTER_SECONDS", default=60.0)
# The quick built-in steps (condition, switch, loop, parallel, join, set, transform) that follow a
# step run in the same worker task, up to this many steps or seconds; the rest go as tasks.
HUB_WORKFLOW_INLINE_STEPS = env.int("HUB_WORKFLOW_INLINE_STEPS", default=50)
HUB_WORKFLOW_INLINE_SECONDS = env.float("HUB_WORKFLOW_INLINE_SECONDS", default=1.0)
# How long the Approve and Reject buttons of an approval's e-mail work.
HUB_WORKFLOW_APPROVAL_LINK_DAYS = env.int("HUB_WORKFLOW_APPROVAL_LINK_DAYS", default=7)
# Calls a workflow's incoming webhook takes per minute (more: 429).
HUB_WORKFLOW_WEBHOOK_PER_MINUTE = env.int("HUB_WORKFLOW_WEBHOOK_PER_MINUTE", default=60)

# --- Event spine: events, notifications, webhooks, push ---------------------------------------
# How often beat sends the sweep that re-dispatches what was left behind (every tenant).
HUB_EVENTS_SWEEP_SECONDS = env.float("HUB_EVENTS_SWEEP_SECONDS", default=60.0)
# How often beat re-sends the work of a worker that died (its hold ran out; apps.events.queue).
HUB_EVENTS_RECOVERY_SECONDS = env.float("HUB_EVENTS_RECOVERY_SECONDS", default=2.0)
# An event (or a due webhook delivery) still waiting this long is re-enqueued by the sweep.
HUB_EVENTS_SWEEP_GRACE_SECONDS = env.float("HUB_EVENTS_SWEEP_GRACE_SECONDS", default=60.0)
# Webhook and push URLs must be https; loopback addresses are never reached (tests flip both).
HUB_WEBHOOK_REQUIRE_HTTPS = env.bool("HUB_WEBHOOK_REQUIRE_HTTPS", default=True)
HUB_WEBHOOK_ALLOW_LOOPBACK = False
HUB_SIEM_ALLOW_LOOPBACK = False  # a SIEM on this machine (syslog): the tests' local receiver only
HUB_WEBHOOK_TIMEOUT_SECONDS = 10.0
# The integration hub's connectors (apps.integrations) call services at addresses tenants give:
# https to public addresses only, through the SSRF guard (tests flip both to reach local fakes).
HUB_INTEGRATIONS_REQUIRE_HTTPS = env.bool("HUB_INTEGRATIONS_REQUIRE_HTTPS", default=True)
HUB_INTEGRATIONS_ALLOW_LOOPBACK = False
HUB_INTEGRATIONS_TIMEOUT_SECONDS = env.float("HUB_INTEGRATIONS_TIMEOUT_SECONDS", default=15.0)
# A worker sending an endpoint's deliveries holds them this long, renewing every quarter of it while
# it works; if it dies, they are sent again once it has passed.
HUB_WEBHOOK_LEASE_SECONDS = env.float("HUB_WEBHOOK_LEASE_SECONDS", default=10.0)
# Requests in flight to one endpoint at most; how many of a tenant's endpoints are served at once;
# how long one task serves an endpoint before queueing behind the others.
HUB_WEBHOOK_ENDPOINT_CONCURRENCY = env.int("HUB_WEBHOOK_ENDPOINT_CONCURRENCY", default=16)
HUB_WEBHOOK_TENANT_ENDPOINTS = env.int("HUB_WEBHOOK_TENANT_ENDPOINTS", default=4)
HUB_WEBHOOK_SLICE_SECONDS = env.float("HUB_WEBHOOK_SLICE_SECONDS", default=2.0)
HUB_WEBHOOK_DISABLE_AFTER_DAYS = 5
# Web Push (VAPID): generate a key pair with `manage.py vapid_keys`.
HUB_VAPID_PUBLIC_KEY = env("HUB_VAPID_PUBLIC_KEY", default="")
HUB_VAPID_PRIVATE_KEY = env("HUB_VAPID_PRIVATE_KEY", default="")
HUB_VAPID_SUBJECT = env("HUB_VAPID_SUBJECT", default="mailto:no-reply@localhost")

# --- Identity ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
# Argon2id first: new and re-hashed passwords use it; PBKDF2 still verifies older hashes.
PASSWORD_HASHERS = [
    "apps.identity.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "apps.identity.sso.TenantSAMLBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "apps.identity.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {"signup": "apps.identity.forms.OrganisationSignupForm"}
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}
HUB_INVITATION_MAX_AGE_DAYS = env.int("HUB_INVITATION_MAX_AGE_DAYS", default=7)
HUB_HANDOVER_MAX_AGE_SECONDS = 60

# --- MFA, passwordless log-in, SSO, brute force (apps/identity) -----------------------------
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="ReactDjango-Hub")
# Passwordless: a one-time code by email (allauth's login by code), rate-limited below.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 300
ACCOUNT_RATE_LIMITS["request_login_code"] = "10/m/ip,3/5m/key"
# How long a sign-up's email link works.
HUB_SIGNUP_MAX_AGE_HOURS = env.int("HUB_SIGNUP_MAX_AGE_HOURS", default=24)
HUB_LOGIN_LOCK_THRESHOLD = env.int("HUB_LOGIN_LOCK_THRESHOLD", default=5)
HUB_LOGIN_LOCK_BASE_SECONDS = env.int("HUB_LOGIN_LOCK_BASE_SECONDS", default=30)
HUB_LOGIN_LOCK_MAX_SECONDS = env.int("HUB_LOGIN_LOCK_MAX_SECONDS", default=3600)
HUB_LOGIN_IP_LOCK_THRESHOLD = env.int("HUB_LOGIN_IP_LOCK_THRESHOLD", default=50)

# --- Threat detection (apps.security; docs/security.md) -------------------------------------------
# The operator's MaxMind-format city database (GeoLite2-City.mmdb). Without one, the rules that need
# a place (log-in from a new country, impossible travel) are off, and the security page says so.
HUB_GEOIP_DATABASE = env("HUB_GEOIP_DATABASE", default="")
# Brute force: failed log-ins from one address for this many different accounts within the window.
HUB_THREAT_BRUTE_FORCE_ACCOUNTS = env.int("HUB_THREAT_BRUTE_FORCE_ACCOUNTS", default=5)
HUB_THREAT_BRUTE_FORCE_WINDOW = env.int("HUB_THREAT_BRUTE_FORCE_WINDOW", default=600)
# Credential stuffing: this many different accounts failing from this many addresses within the
# window, while failures are at least this share of all log-ins then (or the accounts alone reach
# the second number, whatever the share).
HUB_THREAT_STUFFING_ACCOUNTS = env.int("HUB_THREAT_STUFFING_ACCOUNTS", default=20)
HUB_THREAT_STUFFING_ADDRESSES = env.int("HUB_THREAT_STUFFING_ADDRESSES", default=5)
HUB_THREAT_STUFFING_RATIO = env.float("HUB_THREAT_STUFFING_RATIO", default=0.5)
HUB_THREAT_STUFFING_ACCOUNTS_ALONE = env.int("HUB_THREAT_STUFFING_ACCOUNTS_ALONE", default=200)
HUB_THREAT_STUFFING_WINDOW = env.int("HUB_THREAT_STUFFING_WINDOW", default=300)
# Impossible travel: two log-ins of one person further apart than this distance, faster than this speed.
HUB_THREAT_TRAVEL_KMH = env.int("HUB_THREAT_TRAVEL_KMH", default=900)
HUB_THREAT_TRAVEL_MIN_KM = env.int("HUB_THREAT_TRAVEL_MIN_KM", default=300)
# Mass deletion or download: this many by one person within the window.
HUB_THREAT_MASS_COUNT = env.int("HUB_THREAT_MASS_COUNT", default=50)
HUB_THREAT_MASS_WINDOW = env.int("HUB_THREAT_MASS_WINDOW", default=600)
# How long the places, devices and networks seen for a person or a key are remembered.
HUB_THREAT_HISTORY_DAYS = env.int("HUB_THREAT_HISTORY_DAYS", default=180)
# The whole detection (off: nothing is counted; the benchmark's baseline).
HUB_THREAT_DETECTION = env.bool("HUB_THREAT_DETECTION", default=True)
# Security posture (apps.security.posture; docs/security.md#security-scanning): an active API key
# older than the first number of days, or unused for the second; an owner or admin not logged in
# for the third; more owners than the fourth.
HUB_POSTURE_KEY_MAX_AGE_DAYS = env.int("HUB_POSTURE_KEY_MAX_AGE_DAYS", default=365)
HUB_POSTURE_KEY_UNUSED_DAYS = env.int("HUB_POSTURE_KEY_UNUSED_DAYS", default=90)
HUB_POSTURE_DORMANT_ADMIN_DAYS = env.int("HUB_POSTURE_DORMANT_ADMIN_DAYS", default=90)
HUB_POSTURE_MAX_OWNERS = env.int("HUB_POSTURE_MAX_OWNERS", default=3)
HUB_SMS_BACKEND = env("HUB_SMS_BACKEND", default="apps.identity.sms.ConsoleSMSBackend")
HUB_TWILIO_ACCOUNT_SID = env("HUB_TWILIO_ACCOUNT_SID", default="")
HUB_TWILIO_AUTH_TOKEN = env("HUB_TWILIO_AUTH_TOKEN", default="")
HUB_TWILIO_FROM = env("HUB_TWILIO_FROM", default="")
HUB_TWILIO_API_BASE = env("HUB_TWILIO_API_BASE", default="https://api.twilio.com")
# SAML: each tenant is its own SP, configured per request from its SSO settings.
SAML_CONFIG_LOADER = "apps.identity.sso.saml_config_for_request"
# IdP metadata URLs are fetched over https from public addresses only, unless this is on
# (an IdP inside the company network).
HUB_SSO_METADATA_ALLOW_PRIVATE = env.bool("HUB_SSO_METADATA_ALLOW_PRIVATE", default=False)
# Passkeys (django-otp-webauthn): each tenant host is its own relying party.
OTP_WEBAUTHN_RP_ID_CALLABLE = "apps.identity.passkeys.rp_id"
OTP_WEBAUTHN_RP_NAME_CALLABLE = "apps.identity.passkeys.rp_name"
OTP_WEBAUTHN_HELPER_CLASS = "apps.identity.passkeys.HubWebAuthnHelper"
# Checked per request against the tenant host being served (HubWebAuthnHelper); this static
# value only satisfies django-otp-webauthn's start-up check.
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{HUB_SCHEME}://{HUB_BASE_DOMAIN}"]
SAML_ACS_FAILURE_RESPONSE_FUNCTION = "apps.identity.sso.acs_failure"
SAML_CREATE_UNKNOWN_USER = True
SAML_SESSION_COOKIE_NAME = "saml_session"
SAML_CSP_HANDLER = ""  # the hub sends its own Content-Security-Policy
SAML_SESSION_COOKIE_SAMESITE = env("SAML_SESSION_COOKIE_SAMESITE", default="Lax" if HUB_SCHEME == "http" else "None")

# Fernet keys for secrets stored in the database (apps/core/crypto.py), newest first.
HUB_FIELD_ENCRYPTION_KEYS = env.list("HUB_FIELD_ENCRYPTION_KEYS", default=[])

# --- Sessions, cookies, security --------------------------------------------------------------
# Cookies are per host (no SESSION_COOKIE_DOMAIN): one tenant's session never travels to another.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Every host trusts only itself: Django accepts a POST whose Origin (or, over https, Referer) is
# the host it is sent to, and no form posts across hosts (sign-up and the tenant switcher post to
# their own host, which redirects to the other's hand-over link). Set this only for a proxy or
# front end on another origin that must post here.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
HUB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    # Sign-up and the tenant switcher post across to a tenant's own host.
    f"form-action 'self' {HUB_SCHEME}://{HUB_BASE_DOMAIN} {HUB_SCHEME}://*.{HUB_BASE_DOMAIN}"
)

# --- Static files and e-mail ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".data" / "media"
# Content's blobs (apps.content.storage): each tenant's under its own prefix, never served by URL.
# The local file system by default; an S3-compatible bucket when HUB_CONTENT_S3_BUCKET is set.
HUB_CONTENT_ROOT = env.path("HUB_CONTENT_ROOT", default=BASE_DIR / ".data" / "content")
STORAGES["content"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    # A blob's name is its hash: writing it again writes the same bytes.
    "OPTIONS": {"location": HUB_CONTENT_ROOT, "base_url": None, "allow_overwrite": True},
}
if env("HUB_CONTENT_S3_BUCKET", default=""):
    STORAGES["content"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("HUB_CONTENT_S3_BUCKET"),
            "endpoint_url": env("HUB_CONTENT_S3_ENDPOINT_URL", default=None),
            "region_name": env("HUB_CONTENT_S3_REGION", default=None),
            "access_key": env("HUB_CONTENT_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("HUB_CONTENT_S3_SECRET_ACCESS_KEY", default=None),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            # Presigned download URLs (HUB_CONTENT_SERVE): Signature Version 4, which every region takes.
            "signature_version": "s3v4",
        },
    }
# Data residency (apps.tenancy.regions): each region's STORAGES aliases for a tenant's files
# ("default": exports, reports, copies, archives; "content": documents' blobs). A tenant's region
# is chosen when it is created. More storages for other regions' buckets: HUB_EXTRA_STORAGES (JSON,
# merged into STORAGES), e.g. {"files-eu": {"BACKEND": "storages.backends.s3.S3Storage", ...}}.
STORAGES.update(env.json("HUB_EXTRA_STORAGES", default={}))
HUB_REGIONS = env.json(
    "HUB_REGIONS", default={"local": {"label": "This server", "default": "default", "content": "content"}}
)
HUB_DEFAULT_REGION = env("HUB_DEFAULT_REGION", default="local")
# How downloads are served: "redirect" (a 302 to a presigned URL of the bucket: the app never proxies
# the bytes) or "proxy" (streamed by the app). Empty: redirect on S3, proxy on the local file system.
HUB_CONTENT_SERVE = env("HUB_CONTENT_SERVE", default="")
if HUB_CONTENT_SERVE not in ("", "proxy", "redirect"):
    raise ImproperlyConfigured('HUB_CONTENT_SERVE must be "proxy", "redirect" or empty.')
# How long a presigned download URL works (seconds): long enough to start the download, no longer.
HUB_CONTENT_URL_SECONDS = env.int("HUB_CONTENT_URL_SECONDS", default=300)
# Archives (ZIP, DOCX, XLSX, PPTX…) whose central directory promises more than this are refused at
# upload (a "zip bomb"): total uncompressed bytes, number of entries, uncompressed/compressed ratio.
HUB_CONTENT_ZIP_LIMITS = {
    "max_uncompressed_bytes": env.int("HUB_CONTENT_ZIP_MAX_UNCOMPRESSED", default=2 * 2**30),
    "max_entries": env.int("HUB_CONTENT_ZIP_MAX_ENTRIES", default=10_000),
    "max_ratio": env.int("HUB_CONTENT_ZIP_MAX_RATIO", default=200),
}
# Per plan: the largest file and the storage a tenant may use (bytes; blobs counted once).
HUB_CONTENT_LIMITS = {
    "free": {"max_file_bytes": 25 * 2**20, "quota_bytes": 1 * 2**30},
    "team": {"max_file_bytes": 2 * 2**30, "quota_bytes": 100 * 2**30},
    "business": {"max_file_bytes": 5 * 2**30, "quota_bytes": 500 * 2**30},
    "enterprise": {"max_file_bytes": 20 * 2**30, "quota_bytes": 2 * 2**40},
}
# Processing (apps.content.processing) stops a hostile file from exhausting the worker: the text
# kept (and searched) per file, the PDF pages read, the pages of a scan OCR'd, and the seconds and
# memory each program (pdftotext, pdftoppm, tesseract) may use.
HUB_CONTENT_PROCESSING = {
    "text_chars": env.int("HUB_CONTENT_TEXT_CHARS", default=200_000),
    "pdf_pages": env.int("HUB_CONTENT_PDF_PAGES", default=500),
    "ocr_pages": env.int("HUB_CONTENT_OCR_PAGES", default=10),
    # Pictures larger than this are photos rather than scans (an A4 page at 300 dpi is 8.7 MP): not OCR'd.
    "ocr_max_pixels": env.int("HUB_CONTENT_OCR_MAX_PIXELS", default=25_000_000),
    "min_pdf_chars": 20,  # a PDF with less text than this is a scan: its pages are OCR'd
    "program_seconds": env.int("HUB_CONTENT_PROGRAM_SECONDS", default=120),
    "program_memory_bytes": env.int("HUB_CONTENT_PROGRAM_MEMORY", default=2**30),
    "xml_bytes": 50 * 2**20,  # an office file's XML (DOCX document.xml, a PPTX slide, content.xml) read at most
    # A PDF's pages that get a preview, each drawn when first asked for (the first at processing).
    "preview_pages": env.int("HUB_CONTENT_PREVIEW_PAGES", default=50),
}
# Trashed folders and documents are purged after this many days.
HUB_CONTENT_TRASH_DAYS = env.int("HUB_CONTENT_TRASH_DAYS", default=30)
# A resumable (tus) upload not finished within this many hours of its last bytes is deleted.
HUB_CONTENT_UPLOAD_EXPIRE_HOURS = env.int("HUB_CONTENT_UPLOAD_EXPIRE_HOURS", default=24)
# A check-out (lock) lapses after this many hours without a check-in.
HUB_CONTENT_LOCK_HOURS = env.int("HUB_CONTENT_LOCK_HOURS", default=8)
# A new public link of a document works for this many days unless its creator chooses otherwise.
HUB_CONTENT_LINK_DAYS = env.int("HUB_CONTENT_LINK_DAYS", default=7)
# The platform's name where no organisation's applies: emails from the public site, the admin.
HUB_PLATFORM_NAME = env("HUB_PLATFORM_NAME", default="ReactDjango-Hub")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ReactDjango-Hub <no-reply@localhost>")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)

LANGUAGE_CODE = "en-gb"
# The hub's wording for allauth's pages and emails ("Log in", not "Sign In"): locale/en_GB.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- The integrator API (apps.api; see its README section) ------------------------------------
# What every endpoint shares is apps.core.api; apps.api plugs in API keys (authentication), rate
# limits and usage metering (the throttle, checked before the permission check) and idempotency.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.HubAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        "apps.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.HubPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.MeteringThrottle"],
    "DEFAULT_VERSIONING_CLASS": "apps.core.api.versioning.HubVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_VERSION": "v1",
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.HubCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.api.filters.HubFilterBackend",
        "apps.core.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.JSONParser"],  # DRF's, refusing NUL characters
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ReactDjango-Hub API",
    "DESCRIPTION": "The integrator API of one organisation, served on its own domain at /api/v1/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.identity.roles.Role",
        "EventTypeEnum": "apps.notifications.api.serializers.event_type_choices",
        "FileFormatEnum": "apps.analytics.models_reports.ReportFormat",
        "ReportFormatEnum": "apps.analytics.models_reports.REPORT_FORMAT_CHOICES",
        "ExportFormatEnum": "apps.analytics.models_reports.EXPORT_FORMAT_CHOICES",
        "WorkflowRunStatusEnum": "apps.workflow.models.WorkflowRun.Status",
        "WorkflowStepStatusEnum": "apps.workflow.models.StepRun.Status",
        "WorkflowApprovalStatusEnum": "apps.workflow.models.Approval.Status",
        "DataRequestKindEnum": "apps.compliance.models.DataRequest.Kind",
        "DataRequestStatusEnum": "apps.compliance.models.DataRequest.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Requests per minute per API key (or per logged-in user on the dashboards' calls), by plan.
HUB_API_RATE_LIMITS = {"free": 120, "team": 600, "business": 1200, "enterprise": 3000}
# Versions past their prime: {"v1": {"deprecated": "2027-01-01", "sunset": "2027-07-01"}}
# (ISO dates); their responses carry Deprecation and Sunset headers, and after the sunset 410.
HUB_API_DEPRECATED_VERSIONS = env.json("HUB_API_DEPRECATED_VERSIONS", default={})
HUB_API_IDEMPOTENCY_HOURS = 24
# The class apps.core.api's base view asks to claim and replay an Idempotency-Key on POST ("" = none).
HUB_API_IDEMPOTENCY_CLASS = "apps.api.idempotency.IdempotencyKeys"
# How often (seconds) a process checks Redis for API key changes made by other processes
# (a revocation takes effect at once in the process that made it, within this interval elsewhere).
HUB_API_KEY_RECHECK_SECONDS = env.float("HUB_API_KEY_RECHECK_SECONDS", default=0.25)
# POST /api/v1/flags/evaluate answered from memory before Django's request cycle when it can be
# (apps.flags.fastpath); off, every call goes through the view.
HUB_FLAGS_FAST_PATH = env.bool("HUB_FLAGS_FAST_PATH", default=True)
# The GraphQL gateway (/graphql/, apps.api.graphql): a query is refused before it runs when it is
# deeper, costs more (its connections' calls / 100: apps.api.graphql.cost) or may return more nodes
# than these; its cost is taken from the rate limit above. Introspection can be turned off.
HUB_GRAPHQL_MAX_DEPTH = env.int("HUB_GRAPHQL_MAX_DEPTH", default=10)
HUB_GRAPHQL_MAX_COST = env.int("HUB_GRAPHQL_MAX_COST", default=50)
HUB_GRAPHQL_MAX_NODES = env.int("HUB_GRAPHQL_MAX_NODES", default=50_000)
HUB_GRAPHQL_INTROSPECTION = env.bool("HUB_GRAPHQL_INTROSPECTION", default=True)
HUB_GRAPHQL_PERSISTED_DAYS = 30
# Subscriptions one GraphQL websocket may run at once (apps.api.graphql.sockets).
HUB_GRAPHQL_SUBSCRIPTIONS_MAX = env.int("HUB_GRAPHQL_SUBSCRIPTIONS_MAX", default=10)

AUDITLOG_INCLUDE_ALL_MODELS = False

# One format for every line of web, worker and beat (HUB_LOG_FORMAT; apps.ops.logs), each with the
# request id, tenant, user and trace id of the request or task it was written for.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"hub": {"()": "apps.ops.logs.formatter", "fmt": HUB_LOG_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "hub"}},
    # Third-party libraries speak up from WARNING on (pysaml2's schema loader, for one, logs at
    # INFO and would add lines to every command's one-line errors); the hub's own apps at LOG_LEVEL.
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "apps": {"level": env("LOG_LEVEL", default="INFO")},
        # Celery's own lines (a worker ready, a task received and done, beat sending).
        "celery": {"level": "INFO"},
        # uvicorn's start-up and errors in the same format; its access lines give way to the hub's
        # own (apps.ops.request: the same facts plus the request id, tenant and user).
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}

# Analytics' event store (apps/analytics/stores/): the default for tenants that have not been
# moved, and where the ClickHouse store lives — a server (http(s)://user:password@host:8123) for
# every real deployment, or chDB in-process (chdb:///path; one process only) for tools and tests.
HUB_ANALYTICS_STORE = env("HUB_ANALYTICS_STORE", default="postgres")
HUB_ANALYTICS_CLICKHOUSE_URL = env("HUB_ANALYTICS_CLICKHOUSE_URL", default=f"chdb://{BASE_DIR / '.data' / 'chdb'}")
