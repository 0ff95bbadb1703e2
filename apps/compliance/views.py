from django.shortcuts import render

from apps.identity.decorators import tenant_member_required


@tenant_member_required("compliance.manage")
def index(request):
    return render(request, "compliance/index.html", {})
