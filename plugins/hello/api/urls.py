from rest_framework.routers import SimpleRouter

from .views import GreetingViewSet

router = SimpleRouter()
router.register("greetings", GreetingViewSet, basename="hello-greeting")

urlpatterns = router.urls
