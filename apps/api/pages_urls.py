"""/developers/: the API keys page and the API reference pages (HTML, so outside /api/)."""

from django.urls import path

from . import docs, pages

urlpatterns = [
    path("keys/", pages.api_keys, name="api_keys"),
    path("keys/<int:pk>/revoke/", pages.api_key_revoke_page, name="api_key_revoke"),
    path("docs/", docs.swagger, name="api_docs"),
    path("redoc/", docs.redoc, name="api_redoc"),
]
