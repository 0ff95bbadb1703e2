from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiSpecViewSet, ConnectionViewSet, ConnectorListView

router = SimpleRouter()
router.register("connections", ConnectionViewSet, basename="integrations-connection")
router.register("apis", ApiSpecViewSet, basename="integrations-api")

urlpatterns = [path("connectors/", ConnectorListView.as_view(), name="integrations-connectors"), *router.urls]
