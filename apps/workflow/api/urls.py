from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApprovalViewSet, NodeTypesView, RunViewSet, WorkflowViewSet

router = SimpleRouter()
router.register("runs", RunViewSet, basename="workflow-run")
router.register("approvals", ApprovalViewSet, basename="workflow-approval")
router.register("", WorkflowViewSet, basename="workflow")

urlpatterns = [path("node-types/", NodeTypesView.as_view(), name="workflow-node-types"), *router.urls]
