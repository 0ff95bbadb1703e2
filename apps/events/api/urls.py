from django.urls import path, re_path

from .views import EventTypeDetailView, EventTypeListView

urlpatterns = [
    path("event-types/", EventTypeListView.as_view(), name="event-type-list"),
    re_path(r"^event-types/(?P<name>[^/]{1,200})/$", EventTypeDetailView.as_view(), name="event-type-detail"),
]
