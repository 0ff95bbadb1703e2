"""identity's API, at the root of /api/v1/ (api_prefix ""): members, invitations, the audit log."""

from rest_framework.routers import SimpleRouter

from .views import AuditLogViewSet, InvitationViewSet, MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("audit-log", AuditLogViewSet, basename="audit-entry")

urlpatterns = router.urls
