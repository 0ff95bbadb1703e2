from rest_framework.routers import SimpleRouter

from .views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
