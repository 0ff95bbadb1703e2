"""Production settings for the benchmarks, with the tenant routing middleware (as deployed).

Differences from config.settings.production, none of which changes what a request costs: a dummy
secret, no SSL redirect (the benchmark speaks plain HTTP to 127.0.0.1), quiet logging, the
benchmark URLconf, static files named without collectstatic's manifest, and a database and Redis
databases of the benchmark's own.
"""

import os
import warnings

# Dummies for what production.py requires from the environment (add any new required variable here).
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("HUB_FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1rZXktMzItYnl0ZXMtISE=")

from config.settings.production import *  # noqa: E402, F403
from config.settings.production import DATABASES, redis_url_for  # noqa: E402

SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdefghij"
DEBUG = False
SECURE_SSL_REDIRECT = False

# The same URLconf for both servers: the benchmark's trivial view, then the tenant site.
ROOT_URLCONF = "bench.urls"

# Never the application's database: the benchmark creates and drops tenants in its own.
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DATABASE_NAME", "hub_bench")
REDIS_DB_CACHE, REDIS_DB_CELERY, REDIS_DB_CHANNELS = 14, 15, 15
for _cache in CACHES.values():  # noqa: F405  (default and sessions, as in test settings)
    _cache["LOCATION"] = redis_url_for("redis", REDIS_DB_CACHE)
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [{"address": redis_url_for("redis", REDIS_DB_CHANNELS)}]  # noqa: F405
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = redis_url_for("kombu", REDIS_DB_CELERY)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # (Records of Django's own loggers reach this handler too: its level keeps their 404s out.)
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "ERROR"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
# Pages name their static files without the manifest that the Dockerfile's collectstatic writes.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# WhiteNoise warns when STATIC_ROOT was never collected; the benchmark serves no static files.
warnings.filterwarnings("ignore", message="No directory at")
