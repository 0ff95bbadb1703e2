"""The foundation's endpoints: the organisation, members, invitations, audit log, API keys."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .audit import AuditLogViewSet
from .keys import ApiKeyViewSet, UsageView
from .members import InvitationViewSet, MemberViewSet
from .tenant import TenantView

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("audit-log", AuditLogViewSet, basename="audit-entry")
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("tenant/", TenantView.as_view(), name="tenant"),
    path("usage/", UsageView.as_view(), name="usage"),
    *router.urls,
]
