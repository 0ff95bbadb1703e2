from rest_framework.routers import SimpleRouter

from .views import PluginViewSet

router = SimpleRouter()
router.register("plugins", PluginViewSet, basename="marketplace-plugin")

urlpatterns = router.urls
