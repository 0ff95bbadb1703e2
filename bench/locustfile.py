"""The mixed load of `make load` (locust): members in the dashboards, integrators on the API,
sites sending analytics events, and open live-update websockets, against one tenant.

bench/load.py prepares the tenant and the credentials and passes them in the environment:
LOAD_TENANT_HOST (the tenant's host name), LOAD_SESSIONS (comma-separated session cookies of
members), LOAD_API_KEY, LOAD_PROJECT_KEY. Every request checks its answer (status and a piece of
the body), so a broken page counts as a failure, not as a fast answer.

    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8000   # with the web UI
"""

import datetime
import itertools
import json
import os
import random
import time
import uuid

import websocket
from locust import HttpUser, User, between, events, task

HOST = os.environ.get("LOAD_TENANT_HOST", "demo.localhost")
SESSIONS = itertools.cycle(os.environ.get("LOAD_SESSIONS", "").split(",") or [""])
API_KEY = os.environ.get("LOAD_API_KEY", "")
PROJECT_KEY = os.environ.get("LOAD_PROJECT_KEY", "")
# Think time between a user's actions (seconds); the run holds the user count fixed.
WAIT = between(float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "1.5")))
EVENTS = ["$pageview", "signed_up", "project_created", "invite_sent", "report_viewed", "checkout_started"]

# Dashboard pages a member opens, with a piece of text each must contain, and how often.
PAGES = [
    ("/", "Welcome", 4),
    ("/members/", "Members", 2),
    ("/activity/", "Activity", 1),
    ("/notifications/", "Notifications", 1),
]


def _check(response, *, status=200, contains: str | None = None):
    if response.status_code != status:
        response.failure(f"status {response.status_code}: {response.text[:200]}")
    elif contains and contains not in response.text:
        response.failure(f"no {contains!r} in the answer")
    else:
        response.success()


class Member(HttpUser):
    """A member clicking through the dashboards (a session cookie, server-rendered pages)."""

    weight = 4
    wait_time = WAIT

    def on_start(self):
        self.client.headers.update({"Host": HOST})
        self.client.cookies.set("sessionid", next(SESSIONS))

    @task
    def page(self):
        path, text, _ = random.choices(PAGES, weights=[w for *_, w in PAGES])[0]
        with self.client.get(path, name=f"page {path}", catch_response=True) as response:
            _check(response, contains=text)


class Integrator(HttpUser):
    """An integrator's program on the REST API with an API key."""

    weight = 3
    wait_time = WAIT

    def on_start(self):
        self.client.headers.update({"Host": HOST, "Authorization": f"Bearer {API_KEY}"})

    @task(4)
    def members(self):
        with self.client.get("/api/v1/members/", name="api members", catch_response=True) as response:
            _check(response, contains='"results"')

    @task(1)
    def trend(self):
        today = datetime.date.today()
        query = {
            "kind": "trends",
            "series": [{"event": random.choice(EVENTS)}],
            "date_from": (today - datetime.timedelta(days=6)).isoformat(),
            "date_to": today.isoformat(),
        }
        with self.client.post(
            "/api/v1/analytics/query", json={"query": query}, name="api analytics query", catch_response=True
        ) as response:
            _check(response, contains='"result"')


class Site(HttpUser):
    """A tenant's web site sending its visitors' events with its project key (PostHog's batch form)."""

    weight = 4
    wait_time = WAIT

    def on_start(self):
        self.client.headers.update({"Host": HOST})
        self.visitor = f"visitor-{uuid.uuid4().hex[:12]}"

    @task
    def batch(self):
        batch = [
            {
                "event": random.choice(EVENTS),
                "distinct_id": self.visitor,
                "properties": {"$current_url": f"https://www.example.com/p/{random.randint(1, 50)}"},
                "uuid": str(uuid.uuid4()),
            }
            for _ in range(random.randint(1, 10))
        ]
        with self.client.post(
            "/batch/", json={"api_key": PROJECT_KEY, "batch": batch}, name="capture batch", catch_response=True
        ) as response:
            _check(response)


class LivePage(User):
    """An open dashboard tab: one websocket (the live updates), asking to catch up now and then."""

    weight = 1
    wait_time = between(5, 10)

    def on_start(self):
        self.ws = self._timed("ws connect", self._connect)

    def on_stop(self):
        if self.ws is not None:
            self.ws.close()

    def _connect(self):
        ws = websocket.create_connection(
            self.host.replace("http", "ws", 1) + "/ws/",
            host=HOST,
            origin=f"http://{HOST}",
            cookie=f"sessionid={next(SESSIONS)}",
            timeout=10,
        )
        hello = json.loads(ws.recv())
        if hello.get("type") != "hello":
            raise RuntimeError(f"no hello: {hello}")
        return ws

    def _sync(self):
        self.ws.send(json.dumps({"type": "sync", "after": 0}))
        return json.loads(self.ws.recv())

    @task
    def sync(self):
        if self.ws is not None:
            self._timed("ws sync", self._sync)

    def _timed(self, name, call):
        started = time.perf_counter()
        try:
            result, error = call(), None
        except Exception as exc:  # noqa: BLE001 - reported to locust as this request's failure
            result, error = None, exc
        events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )
        return result
