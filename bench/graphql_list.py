"""graphql_list: the 20 members of api_list's tenant through GraphQL (GET /graphql/?query=
{ members(first: 20) { … the REST list's fields } }, API key) next to the REST list it mirrors
(GET /api/v1/members/), on the same ASGI server (bench.settings_api: production settings, uvicorn
with 2 worker processes, the rate limit lifted but still counted), wrk -t2 -c32, alternating 10 s
runs (BENCH_API_ROUNDS, five each) in one run.

Figures (medians): graphql_list_p95_ms, graphql_list_rps, graphql_list_rest_rps, and
graphql_list_ratio (GraphQL req/s ÷ REST req/s; the issue's target is ≥ 0.8). Both answers are
checked to hold the 20 members first, and wrk fails on any non-2xx answer.
"""

import json
from contextlib import ExitStack
from urllib.parse import urlencode

from bench.api import DURATION, ROUNDS, ROWS, SLUG, WARMUP, _auth, _lists_all_rows, api_tenant, wrk
from bench.common import http_get, log, median, report
from bench.routing import web_server

QUERY = "{ members(first: 20) { edges { node { id userId email fullName role joined } } pageInfo { endCursor } } }"
PATHS = {"rest": "/api/v1/members/", "graphql": "/graphql/?" + urlencode({"query": QUERY})}


def _graphql_rows(body: str) -> bool:
    data = json.loads(body).get("data") or {}
    return len(data.get("members", {}).get("edges", [])) == ROWS


def graphql_list():
    from django.conf import settings

    host = f"{SLUG}.{settings.HUB_BASE_HOSTNAME}"
    with ExitStack() as stack:
        _tenant, key = stack.enter_context(api_tenant())
        server = stack.enter_context(web_server("bench.settings_api", host, PATHS["rest"], _lists_all_rows, _auth(key)))
        status, body = http_get(server.port, host, PATHS["graphql"], _auth(key))
        if status != 200 or not _graphql_rows(body):
            raise RuntimeError(f"/graphql/ gave {status} {body[:300]!r}")
        for path in PATHS.values():
            wrk(server.port, host, path, key, WARMUP)
        results = {name: [] for name in PATHS}
        for r in range(ROUNDS):
            for name in list(PATHS) if r % 2 == 0 else reversed(PATHS):
                rps, p95, _ = wrk(server.port, host, PATHS[name], key, DURATION)
                results[name].append((rps, p95))
                log(f"graphql_list round {r + 1}/{ROUNDS}: {name} {rps:.0f} req/s, p95 {p95:.1f} ms")
    graphql_rps = median([rps for rps, _ in results["graphql"]])
    rest_rps = median([rps for rps, _ in results["rest"]])
    log(f"graphql_list: REST list {rest_rps:.0f} req/s, p95 {median([p for _, p in results['rest']]):.1f} ms")
    report("graphql_list_p95_ms", median([p95 for _, p95 in results["graphql"]]), "ms")
    report("graphql_list_rps", graphql_rps, "req/s", 0)
    report("graphql_list_rest_rps", rest_rps, "req/s", 0)
    report("graphql_list_ratio", graphql_rps / rest_rps, "ratio", 3)
