"""The api_list benchmark's plain server URLconf: the plain DRF list, then the readiness ping."""

from django.urls import path

from bench.views import ping
from bench.views_api import PlainMemberList

urlpatterns = [path("bench/plain-members/", PlainMemberList.as_view()), path("bench/ping/", ping)]
