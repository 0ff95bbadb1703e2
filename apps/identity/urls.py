from django.urls import include, path

from . import views, views_security

urlpatterns = [
    path("", views.home, name="home"),
    path("home/layout/", views.home_layout, name="home_layout"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/<int:pk>/role/", views.member_change_role, name="member_change_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("audit-log/", views.audit_log, name="audit_log"),
    path("settings/", views.organisation_settings, name="organisation_settings"),
    path("settings/delete/", views.organisation_delete, name="organisation_delete"),
    path("settings/logo/", views.organisation_logo, name="organisation_logo"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("members/<int:user_id>/avatar/", views.member_avatar, name="member_avatar"),
    path("profile/", views.profile, name="profile"),
    path("switch/<slug:slug>/", views.switch_tenant, name="switch_tenant"),
    path("accounts/handover/<str:token>/", views.handover, name="handover"),
    path("settings/security/", views_security.security_settings, name="security_settings"),
    path("sso/login/", views_security.sso_login, name="sso_login"),
    # djangosaml2 per tenant: /saml2/login/, /saml2/acs/, /saml2/metadata/ (the SP metadata).
    path("saml2/", include("djangosaml2.urls")),
    path("", include("apps.identity.urls_accounts")),
]
