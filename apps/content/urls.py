from django.urls import path

from . import views

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
    path("settings/", views.content_settings, name="settings"),
    path("trash/", views.trash, name="trash"),
    path("trash/<int:pk>/restore/", views.trash_restore, name="trash_restore"),
    path("trash/<int:pk>/delete/", views.trash_purge, name="trash_purge"),
]
