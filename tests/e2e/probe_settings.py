"""Test settings for a live hub with the probe pages (tests.e2e.probe_urls); API rate limits
lifted so that a burst of calls measures connections, not the limiter."""

from config.settings.test import *  # noqa: F403

ROOT_URLCONF = "tests.e2e.probe_urls"
HUB_API_RATE_LIMITS = {"free": 10**9, "team": 10**9, "enterprise": 10**9}
