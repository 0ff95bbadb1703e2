"""Feature flags.

flag_eval_us: one flag with five rules (email contains, plan in a list, age at least, a regular
expression, age below) and a 60 % rollout over three variants, evaluated by the engine in-process
(no database, the way a server SDK evaluates locally), for 200,000 distinct ids; the figure is the
median of five passes, in microseconds per evaluation. Target: < 20 µs.

flag_api_p95_ms: POST /api/v1/flags/evaluate for a new distinct id each request (20 flags, each
with rules on person properties, rollouts, some multivariate, one by organisation; exposures off,
so the figure is the evaluation, not the analytics queue), with an API key, on the ASGI server the
other API benchmarks use (bench.api: uvicorn, 2 workers, production settings, rate limit lifted),
wrk -t2 -c32, the median p95 of ROUNDS 10 s runs. Also prints flag_api_rps and the worker CPU per
call, and the same three for the baseline in the same run: the server with HUB_FLAGS_FAST_PATH off,
every call through Django's request cycle and the DRF view (flag_api_view_*). Target: p95 < 20 ms.
"""

import os
import time
from contextlib import ExitStack
from pathlib import Path

from bench.api import api_tenant, wrk
from bench.common import log, median, report
from bench.routing import web_server

FLAGS = 20
ROUNDS = int(os.environ.get("BENCH_FLAGS_ROUNDS", "3"))
DURATION = os.environ.get("BENCH_FLAGS_DURATION", "10s")
LUA = Path(__file__).with_name("flags_evaluate.lua")
FIVE_RULES = [
    {"key": "email", "operator": "icontains", "value": "@acme", "type": "person"},
    {"key": "plan", "operator": "exact", "value": ["team", "pro"], "type": "person"},
    {"key": "age", "operator": "gte", "value": 21, "type": "person"},
    {"key": "email", "operator": "regex", "value": r"^user\d+@", "type": "person"},
    {"key": "age", "operator": "lt", "value": 70, "type": "person"},
]
VARIANTS = {
    "variants": [
        {"key": "control", "rollout_percentage": 34},
        {"key": "a", "rollout_percentage": 33},
        {"key": "b", "rollout_percentage": 33},
    ]
}


def flag_eval_us():
    from apps.flags.engine import Context, compile_flag, evaluate

    flag = compile_flag(
        {
            "key": "bench",
            "filters": {"groups": [{"properties": FIVE_RULES, "rollout_percentage": 60}], "multivariate": VARIANTS},
        }
    )
    n = 200_000
    contexts = [
        Context(
            f"user-{i}", properties={"email": f"user{i}@acme.test", "plan": ("team", "pro")[i % 2], "age": 20 + i % 50}
        )
        for i in range(n)
    ]
    now = time.time()
    passes = []
    matched = 0
    for _ in range(5):
        started = time.perf_counter()
        for context in contexts:
            evaluate(flag, context, now=now)
        passes.append((time.perf_counter() - started) / n * 1e6)
    matched = sum(1 for c in contexts[:10_000] if evaluate(flag, c, now=now).value is not False)
    log(
        f"flag_eval_us: passes {', '.join(f'{p:.2f}' for p in passes)} µs; {matched / 100:.0f}% of ids served a variant"
    )
    report("flag_eval_us", median(passes), "us", 2)


def _flags(tenant):
    from django_tenants.utils import schema_context

    from apps.flags.services import flag_create, property_declare

    with schema_context(tenant.schema_name):
        for key in ("email", "age", "plan"):  # what the tenant's code sends
            property_declare(tenant=tenant, actor=None, kind="person", key=key)
        for i in range(FLAGS):
            filters = {"groups": [{"properties": FIVE_RULES[: 1 + i % 5], "rollout_percentage": 10 + 4 * i}]}
            if i % 3 == 0:
                filters["multivariate"] = VARIANTS
                filters["payloads"] = {"a": {"colour": "green", "n": i}}
            if i == FLAGS - 1:
                filters = {"aggregation_group_type_index": 0, "groups": [{"properties": [], "rollout_percentage": 50}]}
            flag_create(tenant=tenant, actor=None, key=f"flag-{i:02}", filters=filters)


def flag_api_p95_ms():
    import json

    from django.conf import settings

    from bench.api import SLUG

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    with ExitStack() as stack:
        tenant, key = stack.enter_context(api_tenant(scopes=("flags:read",)))
        _flags(tenant)
        in_process_us = _twenty_in_process(tenant)
        figures = {}
        for fast in (True, False):  # as served, and the baseline: every call through the view
            with web_server(
                "bench.settings_api",
                host,
                "/api/v1/flags/local-evaluation",
                lambda body: len(json.loads(body)["flags"]) == FLAGS,
                {"Authorization": f"Bearer {key}"},
                env={"HUB_FLAGS_FAST_PATH": str(fast)},
            ) as server:
                figures[fast] = _rounds(server, host, key, "fast path" if fast else "view")
    (rps, p95, cpu_ms), (view_rps, view_p95, view_cpu_ms) = figures[True], figures[False]
    report("flag_api_p95_ms", p95, "ms")
    report("flag_api_rps", rps, "req/s", 0)
    # Worker CPU per request, and the part of it that is the 20 flags' evaluation itself.
    report("flag_api_cpu_ms", cpu_ms, "ms", 2)
    report("flag_eval_20_us", in_process_us, "us", 1)
    report("flag_api_view_p95_ms", view_p95, "ms")
    report("flag_api_view_rps", view_rps, "req/s", 0)
    report("flag_api_view_cpu_ms", view_cpu_ms, "ms", 2)


def _rounds(server, host: str, key: str, what: str) -> tuple[float, float, float]:
    """The medians of (req/s, p95 ms, worker CPU ms per request) over ROUNDS wrk runs."""
    path = "/api/v1/flags/evaluate"
    wrk(server.port, host, path, key, "3s", script=LUA)  # warm-up, and every answer a 200
    results = []
    for r in range(ROUNDS):
        cpu = server.worker_cpu_seconds()
        rps, p95, requests = wrk(server.port, host, path, key, DURATION, script=LUA)
        cpu_ms = (server.worker_cpu_seconds() - cpu) / requests * 1e3
        results.append((rps, p95, cpu_ms))
        log(f"flag_api_p95_ms ({what}) {r + 1}/{ROUNDS}: {rps:.0f} req/s, p95 {p95:.1f} ms, {cpu_ms:.2f} ms CPU/req")
    return tuple(median([row[i] for row in results]) for i in range(3))


def _twenty_in_process(tenant) -> float:
    """µs to evaluate the 20 flags for one person in-process (the endpoint's own work)."""
    from django_tenants.utils import schema_context

    from apps.flags import selectors

    with schema_context(tenant.schema_name):
        selectors.compiled_flags()
        started = time.perf_counter()
        for i in range(2000):
            selectors.evaluate(
                distinct_id=f"user-{i}",
                properties={"plan": "pro", "age": 30, "email": f"user{i}@acme.test"},
                groups={"organisation": f"org-{i % 50}"},
            )
        return (time.perf_counter() - started) / 2000 * 1e6
