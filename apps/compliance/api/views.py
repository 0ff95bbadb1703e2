"""/api/v1/compliance/: consent (purposes, a person's consent, recording it) and data requests for
integrators (an API key with the compliance scope, created by an admin); and the two endpoints the
consent banner calls from the tenant's own site with the analytics project key (CORS for the
origins the key allows; left out of the OpenAPI document, like analytics capture)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.analytics import keys
from apps.analytics.cors import cors, preflight
from apps.api.metering import meter
from apps.core.api.exceptions import problem_exception_handler, problem_response
from apps.core.api.views import HubAPIView, HubGenericViewSet

from .. import consent, data_requests
from ..models import ConsentRecord, DataRequest
from ..selectors import data_request_list
from .serializers import (
    ConsentGiveSerializer,
    ConsentPurposeSerializer,
    ConsentQuerySerializer,
    ConsentRecordSerializer,
    ConsentSerializer,
    DataRequestSerializer,
)

MANAGE = "compliance.manage"


def _consent_of(subject: str) -> dict:
    history = consent.consent_history(subject=subject)
    return {
        "subject": subject,
        "consent": consent.consent_state(subject=subject),
        "history": ConsentRecordSerializer(history, many=True).data,
    }


class ConsentPurposesView(HubAPIView):
    api_scope = "compliance"
    read_permission = MANAGE

    @extend_schema(summary="The purposes people are asked to consent to", responses=ConsentPurposeSerializer(many=True))
    def get(self, request, *args, **kwargs):
        return Response(ConsentPurposeSerializer(consent.purposes_active(), many=True).data)


class ConsentView(HubAPIView):
    api_scope = "compliance"
    read_permission = MANAGE
    write_permission = MANAGE

    @extend_schema(
        summary="A person's consent now, and its history",
        parameters=[ConsentQuerySerializer],
        responses=ConsentSerializer,
    )
    def get(self, request, *args, **kwargs):
        query = ConsentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(_consent_of(query.validated_data["subject"].strip()))

    @extend_schema(
        summary="Record a person's choices (granted or withdrawn), all or none",
        request=ConsentGiveSerializer,
        responses={201: ConsentSerializer},
    )
    def post(self, request, *args, **kwargs):
        body = ConsentGiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        consent.consent_record(
            subject=data["subject"], choices=data["choices"], method=ConsentRecord.Method.API, source=data["source"]
        )
        return Response(_consent_of(data["subject"].strip()), status=201)


class DataRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, HubGenericViewSet):
    """Data requests: list, read, open (for a member, by their address). Answering them (erasure,
    refusal) is done on the request's page, by a person."""

    api_scope = "compliance"
    read_permission = MANAGE
    write_permission = MANAGE
    serializer_class = DataRequestSerializer
    ordering_fields = ["id", "opened_at", "due_at"]

    def get_queryset(self):
        return data_request_list()

    @extend_schema(summary="The data requests, newest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One data request")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Open a data request (access, portability, erasure, rectification)")
    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        opened = data_requests.data_request_open(
            tenant=request.tenant,
            actor=request.membership,
            kind=data["kind"],
            law=data.get("law", DataRequest.Law.GDPR),
            email=data.get("email", ""),
            details=data.get("details", ""),
            verified_how=data["verified_how"],
        )
        headers = {"Location": f"{request.path.rstrip('/')}/{opened.pk}/"}
        return Response(self.get_serializer(opened).data, status=201, headers=headers)


# --- The banner's endpoints (the project key, from the tenant's own site) ------------------------


class _BannerView(HubAPIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()

    def _key(self, raw):
        return keys.key_find(connection.schema_name, raw) if isinstance(raw, str) and raw else None

    def _refused(self, origin: str, key):
        if key is None:
            return problem_response(
                401, "No valid project key: send this organisation's key (phc_…) as api_key.", "not_authenticated",
                errors=[{"field": "api_key", "message": "Unknown or revoked project key.", "code": "invalid"}],
            )  # fmt: skip
        if origin and not key.allows_origin(origin):
            return problem_response(403, f"This project key does not allow calls from {origin}.", "origin_not_allowed")
        return None

    def _answer(self, response, origin: str):
        return cors(response, origin) if origin else response

    def options(self, request, *args, **kwargs):
        return preflight(request._request)


@extend_schema(exclude=True)
class BannerPurposesView(_BannerView):
    """GET …/consent/banner/purposes?api_key=phc_…: what the banner offers."""

    def get(self, request, *args, **kwargs):
        origin = request._request.headers.get("Origin", "")
        refused = self._refused(origin, self._key(request.query_params.get("api_key")))
        if refused:
            return refused
        return self._answer(Response(ConsentPurposeSerializer(consent.purposes_active(), many=True).data), origin)


@extend_schema(exclude=True)
class BannerRecordView(_BannerView):
    """POST …/consent/banner/record {api_key, subject, choices, source}: the visitor's choices."""

    def post(self, request, *args, **kwargs):
        """Only from a page of an origin the key allows (a browser always says which), at most the
        plan's API rate per minute and address: the key is public, so what it records is what a
        browser claimed (integrators with proof of who consents record through the API)."""
        http = request._request
        origin = http.headers.get("Origin", "")
        data = request.data if isinstance(request.data, dict) else {}
        key = self._key(data.get("api_key"))
        refused = self._refused(origin, key)
        if refused:
            return refused
        if not origin and "*" not in key.allowed_origins:
            return problem_response(
                403, "Consent is recorded from a page of an allowed origin only.", "origin_required"
            )
        ip = http.META.get("REMOTE_ADDR") or ""
        limit = meter.hit(tenant=request.tenant, principal=f"consent-banner:{ip}", key_id=None)
        if limit is not None and limit.remaining < 0:
            return self._answer(
                problem_response(429, "Too many choices from this address: wait a minute.", "throttled"), origin
            )
        try:
            body = ConsentGiveSerializer(data=data)
            body.is_valid(raise_exception=True)
            consent.consent_record(
                subject=body.validated_data["subject"],
                choices=body.validated_data["choices"],
                method=ConsentRecord.Method.BANNER,
                source=body.validated_data["source"] or http.headers.get("Referer", ""),
                ip_address=ip or None,
                user_agent=http.headers.get("User-Agent", ""),
            )
        except (ValidationError, DjangoValidationError) as exc:  # the page's script reads the reason too
            return self._answer(problem_exception_handler(exc, {}), origin)
        return self._answer(Response({"recorded": len(body.validated_data["choices"])}, status=201), origin)
