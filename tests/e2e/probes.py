"""Requests to a live hub with the probe pages (tests.e2e.probe_urls), and what they show."""

import json
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import Message

from django.conf import settings

from tests.e2e.probe_urls import MARKER

PROBE = "/_pgbouncer-probe/"


def get(
    port: int, host: str, path: str, session: str | None = None, *, method="GET", body=None, headers=None
) -> tuple[int, str, Message]:
    """(status, body, headers) of a request to 127.0.0.1:`port` for `host` (header names are
    case-insensitive: uvicorn sends them in lower case)."""
    headers = {"Host": f"{host}:{port}", **(headers or {})}
    if session:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session}"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


def interleaved_traffic(
    web_port: int, sessions, requests: int, at_once: int, *, unanswered_ok: bool = False
) -> list[tuple[str, str, int, str]]:
    """`requests` requests of alpha's and beta's owners to their members page and the schema probe,
    shuffled, `at_once` at a time; returns (slug, page, status, body) for each. With `unanswered_ok`
    a request that gets no answer in time is recorded with status 0 instead of failing the run."""
    jobs = [(slug, page) for slug in ("alpha", "beta") for page in ("/members/", PROBE)]
    jobs = jobs * (requests // len(jobs))
    random.Random(3).shuffle(jobs)

    def fetch(job):
        slug, page = job
        try:
            return slug, page, *get(web_port, f"{slug}.localhost", page, sessions[slug][1])[:2]
        except TimeoutError:
            if not unanswered_ok:
                raise
            return slug, page, 0, ""

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return list(pool.map(fetch, jobs))


def cross_tenant_sights(results, sessions) -> list[str]:
    """Every response that shows a tenant anything of the other one."""
    sights = []
    for slug, page, _status, body in results:
        other = "beta" if slug == "alpha" else "alpha"
        if page == "/members/":
            if sessions[other][0] in body:
                sights.append(f"{slug}'s members page shows {other}'s owner")
            continue
        seen = json.loads(body)
        if seen["schema"] != f"t_{slug}" or seen["markers"] != [MARKER + slug]:
            sights.append(f"{slug}'s request ran in {seen['schema']} and saw {seen['markers']}")
    return sights


def served_by(results, sessions) -> dict[str, set]:
    """Checks every response is its tenant's own 200; returns the server backends (pids) that
    served each tenant's probes."""
    pids = {"alpha": set(), "beta": set()}
    for slug, page, status, body in results:
        assert status == 200, (slug, page, body[:500])
        if page == "/members/":
            assert sessions[slug][0] in body  # the page really lists the tenant's members
        else:
            seen = json.loads(body)
            assert seen["tenant"] == slug
            pids[slug].add(seen["pid"])
    assert cross_tenant_sights(results, sessions) == []
    return pids
