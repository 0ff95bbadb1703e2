"""content's GraphQL types (apps.api.graphql): folders, documents and their versions, over the
selectors and services of /api/v1/content/ (api/views.py), with the same scope and permissions:
reading needs content.view; changing a folder's contents needs its editors (need_edit)."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.graphql import Deleted, context, needs, pk_of

from . import selectors, services
from .api.serializers import FolderWriteSerializer
from .api.views import folder_or_422
from .api.views_sharing import need_edit, valid
from .models import Document as DocumentModel
from .models import Folder as FolderModel
from .models import Version as VersionModel

READ = needs("content", "content.view")


@strawberry.type(description="A version of a document's file.")
class Version:
    number: int
    note: str
    created: datetime

    @strawberry.field
    def size(self: VersionModel) -> int:
        return self.blob.size

    @strawberry.field
    def mime_type(self: VersionModel) -> str:
        return self.blob.mime_type

    @strawberry.field
    def sha256(self: VersionModel) -> str:
        return self.blob.sha256

    @strawberry.field
    def created_by(self: VersionModel) -> str | None:
        return self.created_by.email if self.created_by else None


@strawberry.type(description="A document: a file with its versions, tags and metadata.")
class Document:
    id: strawberry.ID
    name: str
    created: datetime
    updated: datetime

    @strawberry.field
    def folder_id(self: DocumentModel) -> int | None:
        return self.folder_id

    @strawberry.field
    def tags(self: DocumentModel) -> list[str]:
        return [tag.name for tag in self.tags.all()]

    @strawberry.field(description="The current version's number.")
    def version(self: DocumentModel) -> int | None:
        return self.current.number if self.current else None

    @strawberry.field
    def size(self: DocumentModel) -> int | None:
        return self.current.blob.size if self.current else None

    @strawberry.field
    def mime_type(self: DocumentModel) -> str | None:
        return self.current.blob.mime_type if self.current else None

    @relay.connection(relay.ListConnection[Version])
    def versions(self: DocumentModel) -> Iterable[Version]:
        """Its versions, newest first."""
        return selectors.version_list(document=self)


@strawberry.type(description="A folder of documents and folders.")
class Folder:
    id: strawberry.ID
    name: str
    created: datetime

    @strawberry.field
    def parent_id(self: FolderModel) -> int | None:
        return self.parent_id

    @relay.connection(relay.ListConnection[Document])
    def documents(self: FolderModel) -> Iterable[Document]:
        """The documents in it, by name."""
        return selectors.document_list(folder=self).order_by("name", "id")


@strawberry.type
class ContentQuery:
    @relay.connection(relay.ListConnection[Folder], permission_classes=[READ])
    def folders(self, info: Info, parent: strawberry.ID | None = None) -> Iterable[Folder]:
        """Folders in a folder (the top when no parent is given), by name."""
        return selectors.folder_list(parent=folder_or_422(pk_of(parent), "parent") if parent else None).order_by(
            "name", "id"
        )

    @strawberry.field(permission_classes=[READ])
    def folder(self, info: Info, id: strawberry.ID) -> Folder | None:
        """One folder (null: no such folder here, or in the trash)."""
        return selectors.folder_list(everywhere=True).filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[Document], permission_classes=[READ])
    def documents(
        self, info: Info, folder: strawberry.ID | None = None, q: str | None = None, tag: str | None = None
    ) -> Iterable[Document]:
        """Documents in a folder (the top when none is given), or all whose name has `q` or with `tag`."""
        if q or tag:
            documents = selectors.document_list(everywhere=True)
            if q:
                documents = documents.filter(name__icontains=q)
            if tag:
                documents = documents.filter(tags__name__iexact=tag)
        else:
            documents = selectors.document_list(folder=folder_or_422(pk_of(folder)) if folder else None)
        return documents.order_by("name", "id")

    @strawberry.field(permission_classes=[READ])
    def document(self, info: Info, id: strawberry.ID) -> Document | None:
        """One document (null: no such document here, or in the trash)."""
        return selectors.document_list(everywhere=True).filter(pk=pk_of(id)).first()


@strawberry.type
class ContentMutation:
    # Writes are checked against the folder's editors, like the REST endpoints (FolderScoped).
    @strawberry.mutation(permission_classes=[needs("content", "content.view", write=True)])
    def create_folder(self, info: Info, name: str, parent: strawberry.ID | None = None) -> Folder:
        """Create a folder (in `parent`, or at the top), as POST /api/v1/content/folders/."""
        data = valid(FolderWriteSerializer, {"name": name})
        folder = folder_or_422(pk_of(parent), "parent") if parent else None
        ctx = context(info)
        need_edit(ctx.http, folder)
        return services.folder_create(tenant=ctx.tenant, actor=ctx.user, name=data["name"], parent=folder)

    @strawberry.mutation(permission_classes=[needs("content", "content.view", write=True)])
    def trash_document(self, info: Info, id: strawberry.ID) -> Deleted:
        """Move a document to the trash, as DELETE /api/v1/content/documents/{id}/."""
        ctx = context(info)
        document = selectors.document_get(pk=pk_of(id))
        need_edit(ctx.http, document.folder)
        services.document_trash(tenant=ctx.tenant, actor=ctx.user, document=document)
        return Deleted(id=id)


ROOT_FIELDS = ("folders", "folder", "documents", "document", "createFolder", "trashDocument")
