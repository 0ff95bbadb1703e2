from django.urls import path
from rest_framework.routers import SimpleRouter

from .tus import UploadCreateView, UploadView
from .views import DocumentViewSet, FolderTrashViewSet, FolderViewSet, SearchView, StorageView, TrashViewSet
from .views_sharing import CommentViewSet

router = SimpleRouter()
router.register("folders", FolderViewSet, basename="content-folder")
router.register("documents", DocumentViewSet, basename="content-document")
router.register("trash/folders", FolderTrashViewSet, basename="content-trash-folder")
router.register("trash", TrashViewSet, basename="content-trash")
router.register("comments", CommentViewSet, basename="content-comment")

urlpatterns = [
    path("storage", StorageView.as_view(), name="content-storage"),
    path("search", SearchView.as_view(), name="content-search"),
    path("uploads/", UploadCreateView.as_view(), name="content-uploads"),
    path("uploads/<str:id>", UploadView.as_view(), name="content-upload"),
    *router.urls,
]
