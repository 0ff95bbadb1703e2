from django.shortcuts import render

from apps.identity.decorators import tenant_member_required

from .selectors import greeting_list


@tenant_member_required("hello.view")
def index(request):
    return render(request, "hello/index.html", {"greetings": greeting_list()[:50]})
