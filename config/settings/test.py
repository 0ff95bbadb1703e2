from .base import *  # noqa: F403
from .base import env

SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
DEBUG = False
# Separate Redis databases so a test run never clobbers a running dev server's data.
# (TEST_REDIS_DBS lets two test runs share one Redis server.) Each pytest-xdist worker (gw0, gw1,
# ...; the processes a test starts inherit the name) takes the three databases below the last one's,
# and a content folder of its own; pytest-django gives it a test database of its own (test_hub_gw1).
XDIST_WORKER = env("PYTEST_XDIST_WORKER", default="")


def redis_dbs_of_this_worker(dbs: list[int]) -> list[int]:
    """The Redis databases this worker (and what it starts) uses for TEST_REDIS_DBS=dbs."""
    shift = 3 * int(XDIST_WORKER.removeprefix("gw") or 0)
    return [(db - shift) % 16 for db in dbs]


REDIS_DB_CACHE, REDIS_DB_CELERY, REDIS_DB_CHANNELS = redis_dbs_of_this_worker(
    env.list("TEST_REDIS_DBS", cast=int, default=[11, 12, 13])
)
CACHES["default"]["LOCATION"] = CACHES["sessions"]["LOCATION"] = redis_url_for("redis", REDIS_DB_CACHE)  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [{"address": redis_url_for("redis", REDIS_DB_CHANNELS)}]  # noqa: F405
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = redis_url_for("kombu", REDIS_DB_CELERY)  # noqa: F405
# Fast hashing in tests; the Argon2id parameters are checked in their own test and the benchmark.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
# (pytest-django uses locmem in the test process anyway; a worker a test starts may be given SMTP.)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
if env("EMAIL_FILE_PATH", default=""):  # a server the browser tests start writes its emails there
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH")
STORAGES["content"]["OPTIONS"]["location"] = HUB_CONTENT_ROOT = BASE_DIR / ".data" / f"test-content{XDIST_WORKER}"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Serve static files straight from the source folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# A fixed key for development and tests only; production must set HUB_FIELD_ENCRYPTION_KEYS.
HUB_FIELD_ENCRYPTION_KEYS = env.list(
    "HUB_FIELD_ENCRYPTION_KEYS", default=["ZGV2LW9ubHktZmllbGQta2V5LTMyLWJ5dGVzLWxvbmc="]
)
# Webhook tests deliver to a receiver on 127.0.0.1 started by the test (loopback only, never a
# private range); the SSRF tests switch back to production's rules.
HUB_WEBHOOK_REQUIRE_HTTPS = False
HUB_WEBHOOK_ALLOW_LOOPBACK = env.bool("HUB_WEBHOOK_ALLOW_LOOPBACK", default=True)
# The integration hub's tests call fake services on 127.0.0.1 (loopback only, never a private range).
HUB_INTEGRATIONS_REQUIRE_HTTPS = False
HUB_INTEGRATIONS_ALLOW_LOOPBACK = env.bool("HUB_INTEGRATIONS_ALLOW_LOOPBACK", default=True)
HUB_SIEM_ALLOW_LOOPBACK = True
# The example plugin (plugins/hello) is enabled in tests, so its page, API, handler and tenant
# migration run with the suite.
HUB_PLUGINS = env.list("HUB_PLUGINS", default=["plugins.hello", "plugins.chatnotify", "plugins.pulse"])
HELLO_GREETING = "Welcome"
SHARED_APPS, TENANT_APPS, INSTALLED_APPS = app_lists(HUB_APPS, HUB_PLUGINS)  # noqa: F405

# The ClickHouse event store runs in-process (chDB) in tests: a directory per test process, as
# chDB locks its directory (apps/analytics/stores/chclient.py).
HUB_ANALYTICS_CLICKHOUSE_URL = env("HUB_ANALYTICS_CLICKHOUSE_URL", default="chdb:///tmp/hub-test-chdb-{pid}")
