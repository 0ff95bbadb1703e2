"""Test settings for the hub served through PgBouncer: the tenant URLs plus a schema probe."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.e2e.pgbouncer_urls"
