from django.urls import path

from . import views, views_conversation, views_sharing

app_name = "content"
urlpatterns = [
    path("", views.index, name="index"),
    path("new-folder/", views.folder_create, name="folder_create_top"),
    path("upload/", views.upload, name="upload_top"),
    path("folders/<int:folder_id>/", views.index, name="folder"),
    path("folders/<int:folder_id>/new-folder/", views.folder_create, name="folder_create"),
    path("folders/<int:folder_id>/upload/", views.upload, name="upload"),
    path("folders/<int:folder_id>/trash/", views.folder_trash, name="folder_trash"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/<int:pk>/download/", views.download, name="download"),
    path("documents/<int:pk>/versions/<int:number>/download/", views.download, name="version_download"),
    path("documents/<int:pk>/versions/<int:number>/restore/", views.version_restore, name="version_restore"),
    path("documents/<int:pk>/versions/new/", views.version_upload, name="version_upload"),
    path("documents/<int:pk>/versions/<int:number>/picture/<str:kind>.webp", views.picture, name="picture"),
    path("documents/<int:pk>/process/", views.process_again, name="process_again"),
    path("search/", views.search_page, name="search"),
    path("documents/<int:pk>/rename/", views.rename, name="rename"),
    path("documents/<int:pk>/lock/", views.lock, name="lock"),
    path("documents/<int:pk>/trash/", views.document_trash, name="document_trash"),
    path("documents/<int:pk>/diff/", views.diff, name="diff"),
    path("documents/<int:pk>/details/", views.details, name="details"),
    path("documents/<int:pk>/links/", views.link_create, name="link_create"),
    path("documents/<int:pk>/links/<int:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path("documents/<int:pk>/comments/", views_conversation.document_comments, name="document_comments"),
    path("folders/<int:folder_id>/comments/", views_conversation.folder_comments, name="folder_comments"),
    path("folders/<int:folder_id>/sharing/", views_sharing.folder_shares, name="folder_shares"),
    path("folders/<int:folder_id>/sharing/<int:share_id>/remove/", views_sharing.folder_unshare, name="folder_unshare"),
    path("comments/<int:pk>/edit/", views_conversation.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/resolve/", views_conversation.comment_resolve, name="comment_resolve"),
    path("comments/<int:pk>/history/", views_conversation.comment_history, name="comment_history"),
    path("mentions/", views_conversation.mention_candidates, name="mention_candidates"),
    # Public: a shared link opens without logging in (apps.content.sharing).
    path("s/<str:signed>/", views_sharing.shared_link, name="shared_link"),
    path("s/<str:signed>/download/", views_sharing.shared_download, name="shared_download"),
    path("settings/", views.content_settings, name="settings"),
    path("trash/", views.trash, name="trash"),
    path("trash/<int:pk>/restore/", views.trash_restore, name="trash_restore"),
    path("trash/<int:pk>/delete/", views.trash_purge, name="trash_purge"),
]
