from apps.core.appconfig import HubAppConfig, Schema


class ContentConfig(HubAppConfig):
    """Content: a tenant's files and documents — folders, versions, check-out, trash — over
    content-addressed blobs (apps.content.storage).

    TENANT app: a tenant's folders, documents, versions and blob records live in its own schema
    (and its blobs' bytes under its own storage prefix), so nothing of one tenant can reach
    another's, and they go with the tenant.
    """

    name = "apps.content"
    label = "content"
    schema = Schema.TENANT

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            BackupPart,
            DataEraser,
            DataExporter,
            GraphQLType,
            NavItem,
            NotificationRule,
            PeriodicTask,
            Permission,
            SearchProvider,
            register_api_scope,
            register_backup_part,
            register_data_eraser,
            register_data_exporter,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_notification_rule,
            register_periodic_task,
            register_permission,
            register_search_provider,
        )

        from . import backup, personal_data, selectors
        from .events import EVENT_TYPES, NOTIFICATION_RULES, uploader
        from .models import (
            Comment,
            CommentRevision,
            ContentSettings,
            Document,
            Folder,
            FolderShare,
            ShareLink,
            Tag,
            Version,
        )

        register_permission(
            Permission(
                "content.view", "Files: see and download", role="viewer",
                description="Browse folders, open and download documents.",
            ),
            Permission(
                "content.edit", "Files: upload and change", role="member",
                description="Upload files, save versions, check documents out, rename, move and trash them.",
            ),
            Permission(
                "content.manage", "Files: delete for good", role="admin",
                description="Empty the trash and end other people's check-outs.",
            ),
        )  # fmt: skip
        register_nav_item(NavItem("Files", "content:index", icon="list", permission="content.view", weight=40))
        from . import graphql

        register_graphql_type(
            GraphQLType(
                "Document", graphql.Document, graphql.ROOT_FIELDS, "Folders and documents.",
                query=graphql.ContentQuery, mutation=graphql.ContentMutation,
            ),
            GraphQLType("Folder", graphql.Folder, description="A folder."),
            GraphQLType("Version", graphql.Version, description="A document's version."),
        )  # fmt: skip
        register_api_scope(ApiScope("content", "Files: folders, documents, versions and downloads.", label="Files"))
        register_event_type(*EVENT_TYPES)
        register_notification_rule(*NOTIFICATION_RULES)
        register_data_exporter(
            DataExporter(
                "content", "Files: uploads, comments and links", personal_data.personal_data_export,
                holds=personal_data.HOLDS,
            )
        )  # fmt: skip
        register_data_eraser(
            DataEraser("content", "Files: uploads, comments and links", personal_data.personal_data_erase)
        )
        # The uploader hears when their file finally could not be processed (in-app and e-mail).
        register_notification_rule(NotificationRule("content.processing_failed", uploader, default_channel="both"))
        # The blobs' bytes and pictures travel with the tenant's backups (the rows go with its schema).
        register_backup_part(BackupPart("content.Blob", rows=None, files=backup.blob_files, file_storage="content"))
        register_search_provider(
            SearchProvider("documents", "Files", selectors.document_search, permission="content.view")
        )
        register_periodic_task(
            PeriodicTask("content-trash-purge", "apps.content.tasks.trash_purge_all_tenants", 24 * 3600.0),
            PeriodicTask("content-uploads-expire", "apps.content.tasks.uploads_expire_all_tenants", 3600.0),
        )
        for model in (Folder, Document, Version, Tag, FolderShare, Comment, CommentRevision, ContentSettings):
            auditlog.register(model)
        auditlog.register(ShareLink, exclude_fields=["token_hash", "password"])
