"""PostHog's flag endpoints on the tenant's host, so posthog-python (and posthog-js) evaluate
this tenant's flags unchanged:

- `POST /flags/?v=4` and `POST /decide/?v=3|4`: remote evaluation for one person, with the
  project key (`api_key` or `token` in the body). v4 answers {"flags": {key: {enabled, variant,
  reason, metadata: {id, version, payload}}}}; v3 (and /decide/ below v4) {"featureFlags",
  "featureFlagPayloads"}. Payloads are JSON-encoded strings, as PostHog sends them.
- `GET /flags/definitions` and `GET /api/feature_flag/local_evaluation/`: the definitions for
  local evaluation, with a secret API key (scope flags:read) as the SDK's personal_api_key.
"""

import gzip
import json
import uuid

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.analytics.cors import cors as _cors
from apps.analytics.cors import preflight
from apps.core.http import problem

from . import selectors
from .api.auth import project_key_of


def _problem(status: int, detail: str, field: str = "", code: str = "invalid") -> JsonResponse:
    extra = {"errors": [{"field": field, "message": detail, "code": code}]} if field else {}
    return problem(status, detail, code, **extra)


def _body(request) -> dict:
    raw = request.body
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    body = json.loads(raw or b"{}")
    if not isinstance(body, dict):
        raise ValueError
    return body


def _payload_text(payload):
    return None if payload is None else json.dumps(payload, separators=(",", ":"))


@csrf_exempt
def remote(request, legacy: bool = False):
    """/flags/ and /decide/: every flag's value for one person, in PostHog's shape."""
    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        return _problem(405, "Send a POST.", code="method_not_allowed")
    try:
        body = _body(request)
    except (ValueError, OSError, EOFError):
        return _problem(400, "The body is not valid JSON.", "body")
    key = body.get("api_key") or body.get("token")
    if not key:
        return _problem(401, "Send the organisation's project key as api_key.", "api_key", "not_authenticated")
    entry = project_key_of(key)
    if entry is None:
        return _problem(401, "Unknown or revoked project key.", "api_key", "not_authenticated")
    origin = request.headers.get("Origin", "")
    if origin and not entry.allows_origin(origin):
        return _problem(403, f"This project key does not allow calls from {origin}.", code="origin_not_allowed")
    distinct_id = body.get("distinct_id")
    if not isinstance(distinct_id, str | int) or isinstance(distinct_id, bool) or str(distinct_id) == "":
        return _problem(400, "Give the person's distinct_id.", "distinct_id", "required")
    fields = {}
    for name in ("person_properties", "groups", "group_properties"):
        value = body.get(name) or {}
        if not isinstance(value, dict):
            return _problem(400, f"{name} must be an object.", name, "invalid_type")
        fields[name] = value
    wanted = body.get("flag_keys_to_evaluate")
    results = selectors.evaluate(
        distinct_id=str(distinct_id),
        properties={"distinct_id": str(distinct_id), **fields["person_properties"]},
        groups={k: str(v) for k, v in fields["groups"].items()},
        group_properties=fields["group_properties"],
        keys=set(wanted) if isinstance(wanted, list) and wanted else None,
    )
    try:
        version = int(request.GET.get("v", "4" if not legacy else "3"))
    except ValueError:
        version = 4
    if version >= 4:
        flags = selectors.compiled_flags()
        answer = {
            "flags": {
                key: {
                    "key": key,
                    "enabled": r.value is not False,
                    "variant": r.value if isinstance(r.value, str) else None,
                    "reason": {"code": r.reason, "condition_index": r.condition_index, "description": r.reason},
                    "metadata": {
                        "id": flags[key].id,
                        "version": flags[key].version,
                        "payload": _payload_text(r.payload),
                        "description": flags[key].definition.get("description", ""),
                    },
                }
                for key, r in results.items()
            },
            "errorsWhileComputingFlags": False,
            "requestId": str(uuid.uuid4()),
        }
    else:
        answer = {
            "featureFlags": {key: r.value for key, r in results.items()},
            "featureFlagPayloads": {
                key: _payload_text(r.payload) for key, r in results.items() if r.payload is not None
            },
            "errorsWhileComputingFlags": False,
        }
    return _cors(JsonResponse(answer), origin) if origin else JsonResponse(answer)


@csrf_exempt
def decide(request):
    return remote(request, legacy=True)


def definitions(request):
    """The local-evaluation answer, behind the API's own authentication (a secret key)."""
    from .api.views import LocalEvaluationView

    return LocalEvaluationView.as_view()(request)
