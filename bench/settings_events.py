"""Benchmark settings for the event spine's worker: bench.settings (production) with one change —
webhooks may reach the benchmark's receiver on 127.0.0.1 over plain HTTP. (Production refuses
loopback and http; the benchmark measures the delivery path, not the refusal.)"""

from bench.settings import *  # noqa: F403

HUB_WEBHOOK_REQUIRE_HTTPS = False
HUB_WEBHOOK_ALLOW_LOOPBACK = True
