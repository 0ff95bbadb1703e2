"""Core's endpoints under /api/v1/ (api_prefix ""): the dashboards' search."""

from django.urls import path

from .search import SearchView

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
]
