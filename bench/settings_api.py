"""bench.settings for the api_list benchmark: the benchmark's URLconf (the plain DRF list in
front of the tenant site) and a rate limit no benchmark run reaches (it is still counted in
Redis on every request, as in production; only the ceiling is lifted)."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_api"
HUB_API_RATE_LIMITS = {"free": 10**9, "team": 10**9, "enterprise": 10**9}
