"""bench.settings for the api_list benchmark's API server: the tenant site's URL patterns as
deployed (bench.urls_api), and a rate limit no benchmark run reaches (calls are still counted in
Redis, as in production; only the ceiling is lifted)."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_api"
HUB_API_RATE_LIMITS = {"free": 10**9, "team": 10**9, "enterprise": 10**9}
