from django.urls import path

from . import kit

urlpatterns = [path("style-guide/", kit.style_guide, name="style_guide")]
