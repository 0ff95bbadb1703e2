from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:pk>/role/", views.member_change_role, name="member_change_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("settings/", views.organisation_settings, name="organisation_settings"),
    path("settings/delete/", views.organisation_delete, name="organisation_delete"),
    path("profile/", views.profile, name="profile"),
    path("switch/<slug:slug>/", views.switch_tenant, name="switch_tenant"),
    path("accounts/handover/<str:token>/", views.handover, name="handover"),
]
