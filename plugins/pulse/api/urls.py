from rest_framework.routers import SimpleRouter

from .views import CheckinViewSet

router = SimpleRouter()
router.register("checkins", CheckinViewSet, basename="pulse-checkin")

urlpatterns = router.urls
