"""Reading capture requests: the hub's own format and PostHog's, one event or a batch.

`payload_read()` turns a request body into (payload, its project key, sent_at); `events_check()`
turns its events into rows for the writer and the list of those refused, each with its index, the
field at fault and why. Nothing here touches the database or Redis.

Accepted bodies (Content-Encoding: gzip, or ?compression=gzip-js, may compress any of them):

- JSON `{"api_key": …, "event": …, "distinct_id": …, …}`: one event;
- JSON `{"api_key": …, "batch": [{…}, …], "sent_at": …}`: a batch (posthog-python's /batch/);
- JSON `[{…}, …]`: a batch whose key is each event's `properties.token` (posthog-js's /e/);
- a form with `data=<base64 of the JSON>` (posthog-js with compression "base64").

The key may also come as `token` in the body, `?api_key=`/`?token=` in the query, or the header
`Authorization: Bearer phc_…`.
"""

import base64
import binascii
import json
import os
import uuid as uuid_module
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import orjson

from . import conf

MAX_NAME = 200


class CaptureError(Exception):
    """A request refused as a whole: its status, what went wrong, and the field at fault."""

    def __init__(self, status: int, detail: str, *, field: str = "", code: str = "invalid"):
        super().__init__(detail)
        self.status, self.detail, self.field, self.code = status, detail, field, code


@dataclass
class Payload:
    events: list
    api_key: str | None
    sent_at: object = None
    batch: bool = True  # False: one event sent on its own (its errors name its fields directly)


@dataclass
class Checked:
    rows: list = field(default_factory=list)  # [timestamp, uuid, event, distinct_id, properties JSON, received, person]
    refused: list = field(default_factory=list)  # [{"index", "field", "message", "code"}]


def _too_large() -> CaptureError:
    limit = conf.get("HUB_ANALYTICS_MAX_BODY_BYTES")
    return CaptureError(413, f"The body is larger than {limit} bytes: send fewer events at a time.", code="too_large")


def body_read(stream, content_length: str | None) -> bytes:
    """The body, at most HUB_ANALYTICS_MAX_BODY_BYTES (413 past that)."""
    limit = conf.get("HUB_ANALYTICS_MAX_BODY_BYTES")
    try:
        if content_length and int(content_length) > limit:
            raise _too_large()
    except ValueError:
        pass
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise _too_large()
    return raw


def _gunzip(raw: bytes) -> bytes:
    limit = conf.get("HUB_ANALYTICS_MAX_BODY_BYTES")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise CaptureError(400, "The body is not valid gzip.", field="body") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise _too_large()
    return out


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


def _json(raw: bytes | str):
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses but JSON allows (a lone surrogate, a huge integer): the events say
        return json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise CaptureError(400, "The body is not valid JSON.", field="body") from None


def payload_read(raw: bytes, *, content_type: str, content_encoding: str, query: dict, authorization: str) -> Payload:
    """The events, key and sent_at of a capture request (CaptureError when it cannot be read)."""
    compression = (query.get("compression") or "").lower()
    if "gzip" in content_encoding.lower() or compression in ("gzip", "gzip-js") or raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw)
    if content_type.startswith("application/x-www-form-urlencoded") or raw[:5] == b"data=":
        form = parse_qs(raw.decode("latin-1"))
        data = (form.get("data") or [""])[0]
        if not data.lstrip().startswith(("{", "[")):
            data = data.strip().replace(" ", "+")  # a "+" sent without URL-encoding reads as a space
            try:
                data = base64.b64decode(data + "=" * (-len(data) % 4), validate=False)
            except (binascii.Error, ValueError):
                raise CaptureError(400, "The form's data is not base64.", field="data") from None
            if data[:2] == b"\x1f\x8b":
                data = _gunzip(data)
        raw = data if isinstance(data, bytes) else data.encode()
    body = _json(raw)

    if isinstance(body, list):
        events, top, batch = body, {}, True
    elif isinstance(body, dict):
        if "batch" in body:
            events, batch = body["batch"], True
            if not isinstance(events, list):
                raise CaptureError(400, "batch must be a list of events.", field="batch", code="invalid_type")
        else:
            events, batch = [body], False
        top = body
    else:
        raise CaptureError(400, "Send an event, a batch or a list of events.", field="body", code="invalid_type")
    if batch and len(events) > conf.get("HUB_ANALYTICS_MAX_BATCH"):
        raise CaptureError(
            413,
            f"A batch holds at most {conf.get('HUB_ANALYTICS_MAX_BATCH')} events; this one has {len(events)}.",
            field="batch",
            code="too_many",
        )
    if batch and not events:
        raise CaptureError(400, "The batch holds no events.", field="batch", code="empty")
    return Payload(
        events=events, api_key=_key_of(top, events, query, authorization), sent_at=_sent_at(top, query), batch=batch
    )


def _key_of(top: dict, events: list, query: dict, authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    candidates = [
        top.get("api_key"),
        top.get("token"),
        query.get("api_key"),
        query.get("token"),
        credentials.strip() if scheme.lower() == "bearer" else None,
    ]
    first = events[0] if events and isinstance(events[0], dict) else {}
    properties = first.get("properties") if isinstance(first.get("properties"), dict) else {}
    candidates += [first.get("api_key"), first.get("token"), properties.get("token")]
    return next((c for c in candidates if isinstance(c, str) and c), None)


def _sent_at(top: dict, query: dict):
    if top.get("sent_at") is not None:
        return top["sent_at"]
    stamp = query.get("_")  # posthog-js: the time of sending, in milliseconds
    if stamp and stamp.isdigit():
        return datetime.fromtimestamp(int(stamp) / 1000, UTC).isoformat()
    return None


def parse_time(value) -> datetime:
    """An ISO 8601 time (a naive one is taken as UTC); ValueError if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def skew_of(sent_at, now: datetime) -> timedelta:
    """How far the sender's clock is behind ours (now - sent_at); zero when it did not say."""
    if sent_at is None:
        return timedelta(0)
    try:
        return now - parse_time(sent_at)
    except ValueError:
        raise CaptureError(400, "sent_at must be an ISO 8601 time.", field="sent_at") from None


class Refused(Exception):
    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def _text(value, name: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and name == "distinct_id":
        value = str(value)
    if value is None:
        raise Refused(name, f"{name} is required.", "required")
    if not isinstance(value, str):
        raise Refused(name, f"{name} must be a string.", "invalid_type")
    value = value.strip()
    if not value:
        raise Refused(name, f"{name} is required.", "required")
    if len(value) > MAX_NAME:
        raise Refused(name, f"{name} must be at most {MAX_NAME} characters.", "too_long")
    if "\x00" in value or not _encodable(value):
        raise Refused(name, f"{name} holds characters that cannot be stored.", "invalid")
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return True


def _object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Refused(name, f"{name} must be an object.", "invalid_type")
    return value


def _person_change(message: dict, event: str, properties: dict) -> dict | None:
    change = {}
    for key, name in (("$set", "set"), ("$set_once", "set_once")):
        value = message.get(key, properties.get(key))
        if value is not None:
            change[name] = _object(value, key)
    other = None
    if event == "$identify":
        other = properties.get("$anon_distinct_id")
    elif event in ("$create_alias", "$merge_dangerously"):
        other = properties.get("alias")
    if other is not None:
        change["merge"] = _text(other, "properties.alias" if event != "$identify" else "properties.$anon_distinct_id")
    if change:
        _stored(change, "$set")
    return change or None


def _stored(value, name: str) -> str:
    """`value` as the JSON text PostgreSQL will store, or Refused naming `name`."""
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise Refused(name, f"{name} hold a value that cannot be stored ({exc}).") from None
    if b"\\u0000" in text:
        raise Refused(name, f"{name} hold a NUL character, which cannot be stored.")
    return text.decode()


@dataclass(frozen=True)
class Window:
    """When events may have happened: from `earliest` to `latest`, as received at `now`."""

    now: datetime
    earliest: datetime
    latest: datetime
    received: str  # `now` as stored

    @classmethod
    def at(cls, now: datetime) -> "Window":
        return cls(
            now,
            now - timedelta(days=conf.get("HUB_ANALYTICS_MAX_AGE_DAYS")),
            now + timedelta(seconds=conf.get("HUB_ANALYTICS_MAX_FUTURE_SECONDS")),
            now.isoformat(),
        )


def new_uuids(count: int, now: datetime) -> list[str]:
    """`count` UUIDv7 (RFC 9562: the time in milliseconds, then random bits) for events sent
    without one: time-ordered, so the uuid index grows at its end. Made in bulk (one urandom)."""
    stamp = int(now.timestamp() * 1000).to_bytes(6, "big")
    random = os.urandom(10 * count)
    out = []
    for start in range(0, 10 * count, 10):
        b = bytearray(stamp + random[start : start + 10])
        b[6] = 0x70 | (b[6] & 0x0F)  # version 7
        b[8] = 0x80 | (b[8] & 0x3F)  # variant 10
        h = b.hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def event_check(message, *, window: Window, skew: timedelta, new_uuid=None) -> list:
    """One event as a row for the writer, or Refused naming the field at fault."""
    now = window.now
    if not isinstance(message, dict):
        raise Refused("", "Each event must be an object.", "invalid_type")
    event = _text(message.get("event"), "event")
    properties = _object(message.get("properties"), "properties")
    distinct = message.get("distinct_id", properties.get("distinct_id", message.get("$distinct_id")))
    distinct_id = _text(distinct, "distinct_id")

    if message.get("timestamp") is not None:
        try:
            timestamp = parse_time(message["timestamp"]) + skew
        except (ValueError, OverflowError):
            raise Refused("timestamp", "timestamp must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.") from None
    elif isinstance(message.get("offset"), int) and not isinstance(message.get("offset"), bool):
        timestamp = now - timedelta(milliseconds=message["offset"])  # posthog-js: sent this long after
    else:
        timestamp = now
    if timestamp > window.latest:
        raise Refused("timestamp", "timestamp is too far in the future (more than a day ahead).", "future")
    if timestamp < window.earliest:
        days = conf.get("HUB_ANALYTICS_MAX_AGE_DAYS")
        raise Refused("timestamp", f"timestamp is too old (more than {days} days ago).", "too_old")

    raw_uuid = message.get("uuid")
    if raw_uuid is None:
        event_uuid = new_uuid() if new_uuid is not None else new_uuids(1, now)[0]
    else:
        try:
            event_uuid = str(uuid_module.UUID(raw_uuid)) if isinstance(raw_uuid, str) else None
        except ValueError:
            event_uuid = None
        if event_uuid is None:
            raise Refused("uuid", "uuid must be a UUID, e.g. 0190d5b4-7d0e-7000-8000-000000000000.")

    person = _person_change(message, event, properties)
    stored = _stored(properties, "properties")
    return [timestamp.isoformat(), event_uuid, event, distinct_id, stored, window.received, person]


def events_check(payload: Payload, *, now: datetime | None = None) -> Checked:
    now = now or datetime.now(UTC)
    skew = skew_of(payload.sent_at, now)
    window = Window.at(now)
    missing = sum(1 for m in payload.events if isinstance(m, dict) and m.get("uuid") is None)
    new_uuid = iter(new_uuids(missing, now)).__next__
    checked = Checked()
    for index, message in enumerate(payload.events):
        if isinstance(message, dict) and message.get("sent_at") is not None and payload.sent_at is None:
            event_skew = skew_of(message["sent_at"], now)
        else:
            event_skew = skew
        try:
            checked.rows.append(event_check(message, window=window, skew=event_skew, new_uuid=new_uuid))
        except Refused as refused:
            checked.refused.append(
                {"index": index, "field": refused.field, "message": refused.message, "code": refused.code}
            )
    return checked
