"""URL-path versioning (/api/v1/…). A deprecated version's responses carry Deprecation (RFC 9745)
and Sunset (RFC 8594) headers; after its sunset date it answers 410 Gone."""

from datetime import UTC, date, datetime
from email.utils import format_datetime

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.versioning import URLPathVersioning


class VersionGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This API version has been retired."
    default_code = "version_gone"


def _moment(value: str) -> datetime:
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)


def deprecation_headers(version: str | None) -> dict:
    policy = settings.HUB_API_DEPRECATED_VERSIONS.get(version or "")
    if not policy:
        return {}
    headers = {"Deprecation": f"@{int(_moment(policy['deprecated']).timestamp())}"}
    if policy.get("sunset"):
        headers["Sunset"] = format_datetime(_moment(policy["sunset"]), usegmt=True)
    if policy.get("link"):
        headers["Link"] = f'<{policy["link"]}>; rel="deprecation"'
    return headers


class HubVersioning(URLPathVersioning):
    invalid_version_message = "This API version does not exist. Use /api/v1/."

    def determine_version(self, request, *args, **kwargs):
        version = super().determine_version(request, *args, **kwargs)
        policy = settings.HUB_API_DEPRECATED_VERSIONS.get(version or "")
        if policy and policy.get("sunset") and _moment(policy["sunset"]) <= datetime.now(UTC):
            raise VersionGone(f"API {version} was retired on {policy['sunset']}.")
        return version
