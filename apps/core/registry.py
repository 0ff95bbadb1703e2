"""The hub's registry: fixed stores of typed items, filled by the apps in AppConfig.ready().

Everything the platform needs to know about an app arrives here, through one `register_<store>()`
function per store: its navigation and home widgets, the event types it publishes and the
handlers it runs, the notification rules, permissions and API scopes it declares, its periodic
tasks and recovery sweeps, its search providers, personal-data exporters and erasers, the public
rows that belong to a tenant's backup, GraphQL types, workflow nodes and the quantities plans
limit. The stores are
complete: no app adds one.

    from apps.core.registry import NavItem, register_nav_item
    register_nav_item(NavItem("Reports", "reports:index", icon="chart", permission="reports.view"))

Each store maps an item's key (a nav item's URL name, an event type's name, …) to the item, in
registration order. Registering a second, different item under a key already taken is an error;
registering the very same item again does nothing (a ready() that runs twice). The registry also
remembers which app registered each item (`registry.app_of(store, key)`), so a plugin's entries
can be told apart from the hub's. Cross-references (a nav item's permission, a handler's event
type) are checked by `manage.py check` once every app has registered (apps/core/checks.py).
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# --- Items ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """A link in the side navigation, shown to members whose role has `permission`."""

    label: str
    url_name: str  # reversed against the tenant URLconf
    icon: str = ""  # an icon's name (the side navigation shows the labels only)
    permission: str = ""  # role permission needed to see it; "" = every member
    weight: int = 100  # lower comes first
    section: str = "main"


@dataclass(frozen=True)
class Widget:
    """A card on the home page. `key` is stable, so a member's layout can refer to it."""

    key: str
    title: str
    template: str
    permission: str = ""
    weight: int = 100


def actor_name(event) -> str:
    """The name of the person who caused `event` ("" when nobody did: the system acted)."""
    actor = getattr(event, "actor", None) if getattr(event, "actor_id", None) else None
    return actor.get_full_name() if actor is not None else ""


class _Fields(dict):
    def __missing__(self, key):
        return ""


@dataclass(frozen=True)
class ChecklistItem:
    """A step of the home page's getting-started checklist, declared by the app that owns it.

    `done(tenant=, user=)` says from real state whether the step is done (it ticks itself); `url_name`
    is where to do it; shown to members whose role has `permission`.
    """

    key: str
    label: str
    url_name: str
    done: Callable[..., bool]
    description: str = ""
    permission: str = ""
    weight: int = 100


@dataclass(frozen=True)
class EventType:
    """A domain event an app publishes. People see `label` and `description`, never `name`.

    `summary` turns one event into a sentence that says who did what, for the activity feed and
    notifications: a callable `summary(event) -> str`, or a format string filled with the
    payload's keys and `{actor}` (the actor's name), e.g. "{actor} created the API key “{name}”".
    `link(event) -> str` gives the address of the object the event is about ("" if none). Read
    them through `sentence(event)` and `url(event)`; without a summary the sentence is the label
    and the actor ("Member joined — Jane Doe"). `event` has `type`, `payload`, `actor_id`,
    `actor` (a user or None) and `occurred_at` (apps.events.models.Event).
    """

    name: str  # "<noun>.<verb in the past>", e.g. "member.joined"
    label: str
    description: str
    payload_schema: dict = field(default_factory=dict)  # JSON Schema (2020-12) of the payload
    summary: str | Callable[[Any], str] | None = field(default=None)
    link: Callable[[Any], str] | None = field(default=None)
    # Cached reads this event makes stale besides its noun's and the activity feed's
    # (apps.core.caching topics), e.g. ("member",) for "invitation.accepted".
    cache_topics: tuple[str, ...] = ()

    def sentence(self, event) -> str:
        if callable(self.summary):
            return self.summary(event)
        actor = actor_name(event)
        if self.summary:
            return self.summary.format_map(_Fields(event.payload or {}, actor=actor or "Someone"))
        return f"{self.label} — {actor}" if actor else self.label

    def url(self, event) -> str:
        return self.link(event) if self.link is not None else ""


@dataclass(frozen=True)
class EventHandler:
    """Runs for each event of `event_type` ("*": every type), in the dispatcher's transaction.

    `handler(event)` is called once per event; with `batch=True`, `handler(events)` once per
    dispatch with the batch's events of that type, oldest first.
    """

    event_type: str
    handler: Callable[..., None]
    batch: bool = False


@dataclass(frozen=True)
class NotificationRule:
    """Who hears about an event type and in what words.

    `recipients(event)` gives user ids; `title(event)` and `body(event)` the text (no title: the
    event type's sentence); `url` is where the notification leads (none: the event's link);
    `default_channel` is "in_app", "email", "both" or "none". `email_actions(notification)`
    gives the e-mail's buttons for its one recipient: (label, path on the tenant's host) pairs,
    e.g. signed links that act without a log-in.
    """

    event_type: str
    recipients: Callable[[Any], Any]
    title: Callable[[Any], str] | None = None
    url: str = ""
    body: Callable[[Any], str] | None = None
    default_channel: str = "in_app"
    email_actions: Callable[[Any], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Permission:
    """A permission a page or endpoint may need; `role` is the lowest role that has it (every
    role above it has it too). Roles belong to apps.identity, which checks the name."""

    code: str  # "<area>.<verb>", e.g. "members.invite"
    label: str
    role: str
    description: str = ""


@dataclass(frozen=True)
class ApiScope:
    """API key scopes `<name>:read` and (unless read-only) `<name>:write`; write includes read."""

    name: str
    description: str
    read_only: bool = False
    label: str = ""  # what people read, e.g. "Members and invitations" ("" → the name, capitalised)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class PeriodicTask:
    """A Celery task that beat sends on a schedule: seconds, or a celery.schedules.crontab."""

    name: str
    task: str  # the task's registered name, e.g. "apps.events.tasks.sweep_all_tenants"
    schedule: Any
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sweeper:
    """Recovery work run in each active tenant's schema at every events sweep; `sweep()` returns
    how much it re-enqueued."""

    name: str
    sweep: Callable[[], int]


@dataclass(frozen=True)
class SearchResult:
    """What a search provider returns for one hit."""

    title: str
    url: str
    description: str = ""


@dataclass(frozen=True)
class SearchProvider:
    """Answers the command palette: `search(query=, tenant=, user=, limit=)` -> [SearchResult],
    asked only for members whose role has `permission`."""

    key: str
    label: str
    search: Callable[..., list[SearchResult]]
    permission: str = ""


# What kinds of personal data a model may hold (the data inventory's categories).
PERSONAL_DATA_CATEGORIES = {
    "identity": "Name, e-mail address and account",
    "security": "Log-ins, sessions, second factors and keys",
    "network": "IP addresses and devices",
    "activity": "What the person did, and when",
    "content": "What the person wrote, uploaded or made",
    "preferences": "Settings and choices",
}
# What erasing a person does to a model's rows.
ERASURE_ACTIONS = {
    "delete": "Deleted",
    "anonymise": "Anonymised: the person's name comes off, the record stays",
    "keep": "Kept (a legal obligation or the organisation's record)",
}


@dataclass(frozen=True)
class PersonalData:
    """One model that holds personal data (an entry of the data inventory): which `fields`, in
    which `categories`, for what `purpose`, and what erasing the person does to its rows
    (`erasure`: "delete", "anonymise" or "keep", with the reason in `note`)."""

    model: str  # "app_label.ModelName"
    categories: tuple[str, ...]
    fields: tuple[str, ...]
    purpose: str
    erasure: str = "anonymise"
    note: str = ""

    def __post_init__(self):
        unknown = set(self.categories) - set(PERSONAL_DATA_CATEGORIES)
        if unknown or not self.categories:
            raise ValueError(f"personal data of {self.model}: unknown categories {sorted(unknown)}")
        if self.erasure not in ERASURE_ACTIONS:
            raise ValueError(f"personal data of {self.model}: erasure must be one of {sorted(ERASURE_ACTIONS)}")


@dataclass(frozen=True)
class DataExporter:
    """Personal data an app holds about a person: `export(user=)` returns it as JSON-able data;
    `holds` maps the models it reads (the data inventory and the record of processing)."""

    key: str
    label: str
    export: Callable[..., Any]
    holds: tuple[PersonalData, ...] = ()


@dataclass(frozen=True)
class DataEraser:
    """Erases (or anonymises) a person's data in an app: `erase(user=)` returns how many records."""

    key: str
    label: str
    erase: Callable[..., int]


def _rows_of_tenant(model, tenant):
    return model.objects.filter(tenant=tenant)


RETENTION_ACTIONS = {
    "delete": "Delete",
    "anonymise": "Anonymise (people's references removed, the record kept)",
    "archive": "Archive to storage, then delete",
}


@dataclass(frozen=True)
class RetentionType:
    """A kind of record a tenant may keep for a limited time (apps.compliance's retention
    policies): rows of `model` whose `date_field` is older than a policy's age are deleted,
    anonymised (every reference to a person set to nothing, e-mail addresses blanked: only where
    those fields may be empty) or archived (written to storage as JSON lines, then deleted).
    Rows whose `date_field` is empty (a run still going) are never touched."""

    key: str  # "notifications.notification"
    label: str  # "Notifications", as people name them
    model: str  # "app_label.ModelName"
    date_field: str
    actions: tuple[str, ...] = ("delete", "archive")
    note: str = ""

    def __post_init__(self):
        if not self.actions or set(self.actions) - set(RETENTION_ACTIONS):
            raise ValueError(f"retention type {self.key}: actions must be among {sorted(RETENTION_ACTIONS)}")


@dataclass(frozen=True)
class BackupPart:
    """Rows of a public-schema model that belong to a tenant, written into its backups.

    `rows(model, tenant)` selects them (at backup, and on restore to clear what provisioning made
    for the new tenant); `adjust(obj, context)` may change a row before it is restored, or return
    None to leave it out. `members`: the users these rows point to are the tenant's members (their
    password hashes travel with the backup). A model that refers to a tenant but is deliberately
    left out is registered with `skip_reason` saying why.

    `prepare()` runs in a new tenant's schema before a restore loads the backup's tables: an app
    whose table is made outside migrations (a partitioned one, which a new schema lacks) makes it
    there. A part that only prepares names a model of the tenant's schema and has `rows=None`.

    `files(schema)` lists the files a tenant keeps outside the database (names relative to the
    schema's prefix in the Django storage `file_storage`, e.g. content's blobs): a backup holds
    them after the tables, read within its snapshot, and a restore writes them under the new
    tenant's prefix. Such a part also has `rows=None`.
    """

    model: str  # "app_label.ModelName"
    rows: Callable[[Any, Any], Any] | None = _rows_of_tenant
    adjust: Callable[[Any, Any], Any] | None = None
    members: bool = False
    skip_reason: str = ""
    prepare: Callable[[], Any] | None = None
    files: Callable[[str], Any] | None = None
    file_storage: str = ""  # a key of settings.STORAGES


@dataclass(frozen=True)
class Quota:
    """A quantity a tenant's plan may limit (apps.billing declares them). `check(tenant=, adding=)`
    raises apps.core.limits.LimitReached when adding `adding` more would pass the plan's limit; it
    is called where the quantity grows (apps.core.limits.limit_check), so it must be cheap.
    `label` names the quantity for people ("members", "API calls this month")."""

    key: str  # "seats", "api_calls", "storage_bytes", "analytics_events", "workflow_runs"
    label: str
    check: Callable[..., None]


@dataclass(frozen=True)
class Plugin:
    """An installed plugin (registered by its PluginConfig). `asks_for` names what it may do
    (apps.core.plugins.PLUGIN_PERMISSIONS), shown before a tenant enables it; `config_schema` is
    the JSON Schema of its per-tenant settings (properties marked `writeOnly` are secrets);
    `default_enabled`: on in every tenant until one disables it."""

    label: str
    name: str
    version: str
    author: str = ""
    description: str = ""
    min_hub_version: str = ""
    max_hub_version: str = ""
    asks_for: tuple[str, ...] = ()
    config_schema: dict = field(default_factory=dict)
    default_enabled: bool = False


@dataclass(frozen=True)
class GraphQLType:
    """A type an app offers to the GraphQL gateway (apps.api.graphql), e.g. "Member".

    `graphql_type` is the strawberry type; `query`, `mutation` and `subscription` are strawberry
    types whose fields the gateway adds to its Query, Mutation and Subscription (each with a
    permission from apps.core.graphql.needs); `root_fields` names those fields, so the gateway can
    check that no two apps claim one.
    """

    name: str
    graphql_type: Any
    root_fields: tuple[str, ...] = ()
    description: str = ""
    query: Any = None
    mutation: Any = None
    subscription: Any = None


@dataclass(frozen=True)
class WorkflowNode:
    """A step of the workflow builder: a "trigger" (an event type starts the workflow) or an
    "action" (`run(config=, context=)` does something). `config_schema` is the JSON Schema of
    what the user fills in; `output_schema` (optional) that of what an action returns, for the
    builder's autocomplete of upstream data."""

    key: str
    kind: str
    label: str
    description: str = ""
    event_type: str = ""  # triggers: the event type that starts it
    run: Callable[..., Any] | None = None  # actions
    config_schema: dict = field(default_factory=dict)
    output_schema: dict = field(default_factory=dict)  # actions: JSON Schema of what run() returns
    connector: str = ""  # actions of the integration hub: the connector's key, e.g. "slack"

    def __post_init__(self):
        if self.kind not in ("trigger", "action"):
            raise ValueError(f"workflow node {self.key!r}: kind must be 'trigger' or 'action'")
        if self.kind == "trigger" and not self.event_type:
            raise ValueError(f"workflow trigger {self.key!r} names no event type")
        if self.kind == "action" and self.run is None:
            raise ValueError(f"workflow action {self.key!r} has nothing to run")


# --- Stores ---------------------------------------------------------------------------------------

# store name -> (item type, the item's key in the store)
_SPECS: dict[str, tuple[type, Callable[[Any], Any]]] = {
    "nav_items": (NavItem, lambda i: i.url_name),
    "widgets": (Widget, lambda i: i.key),
    "checklist_items": (ChecklistItem, lambda i: i.key),
    "event_types": (EventType, lambda i: i.name),
    "event_handlers": (EventHandler, lambda i: (i.event_type, i.handler)),
    "notification_rules": (NotificationRule, lambda i: i.event_type),
    "permissions": (Permission, lambda i: i.code),
    "api_scopes": (ApiScope, lambda i: i.name),
    "periodic_tasks": (PeriodicTask, lambda i: i.name),
    "sweepers": (Sweeper, lambda i: i.name),
    "search_providers": (SearchProvider, lambda i: i.key),
    "data_exporters": (DataExporter, lambda i: i.key),
    "data_erasers": (DataEraser, lambda i: i.key),
    "backup_parts": (BackupPart, lambda i: i.model),
    "plugins": (Plugin, lambda i: i.label),
    "graphql_types": (GraphQLType, lambda i: i.name),
    "workflow_nodes": (WorkflowNode, lambda i: i.key),
    "retention_types": (RetentionType, lambda i: i.key),
    "quotas": (Quota, lambda i: i.key),
}
STORES = tuple(_SPECS)

# The label of the app whose ready() is running (set by HubAppConfig), recorded with each item.
_current_app: ContextVar[str] = ContextVar("hub_registering_app", default="")


@contextmanager
def registering_for(app_label: str):
    token = _current_app.set(app_label)
    try:
        yield
    finally:
        _current_app.reset(token)


class Store(Mapping):
    """One store: key -> item, in registration order. Read it like a dict; write through the
    registry's register_* functions."""

    def __init__(self, name: str, item_type: type, key: Callable[[Any], Any]):
        self.name, self.item_type, self._key = name, item_type, key
        self._items: dict = {}
        self._apps: dict = {}

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<Store {self.name}: {len(self)} items>"

    def key_of(self, item):
        return self._key(item)

    def add(self, item, app: str = "") -> None:
        if not isinstance(item, self.item_type):
            raise TypeError(f"the {self.name} store takes {self.item_type.__name__} items, not {type(item).__name__}")
        key = self._key(item)
        if key in self._items:
            if self._items[key] == item:
                return  # the same declaration again (a ready() that ran twice)
            raise ValueError(f"{self.name}: {_show(key)} is registered twice")
        self._items[key] = item
        self._apps[key] = app

    def remove(self, item) -> None:
        key = self._key(item)
        self._items.pop(key, None)
        self._apps.pop(key, None)

    def app_of(self, key) -> str:
        """The label of the app that registered the item ("" if none was being set up)."""
        return self._apps[key]


def _show(key) -> str:
    if isinstance(key, tuple):
        return "/".join(getattr(part, "__qualname__", None) or repr(part) for part in key)
    return repr(key)


class Registry(Mapping):
    """The fixed stores, by name: `registry["event_types"]`. Reading or writing an unknown store
    is an error, and no store can be added or replaced."""

    def __init__(self):
        self._stores = {name: Store(name, item_type, key) for name, (item_type, key) in _SPECS.items()}
        self._by_type = {store.item_type: store for store in self._stores.values()}
        self._enabled_plugins: Callable[[], frozenset[str]] | None = None

    def __getitem__(self, name) -> Store:
        return self._stores[name]

    def __iter__(self):
        return iter(self._stores)

    def __len__(self) -> int:
        return len(self._stores)

    # --- writing -------------------------------------------------------------------------------

    def _add(self, store: str, items) -> None:
        for item in items:
            self._stores[store].add(item, app=_current_app.get())

    def _store_of(self, item) -> Store:
        try:
            return self._by_type[type(item)]
        except KeyError:
            raise TypeError(f"no registry store takes {type(item).__name__} items") from None

    def register(self, *items) -> None:
        """Registers items in the store of their type (the typed functions below say which)."""
        for item in items:
            self._store_of(item).add(item, app=_current_app.get())

    def unregister(self, *items) -> None:
        for item in items:
            self._store_of(item).remove(item)

    @contextmanager
    def registered(self, *items):
        """Registers the items for the block only (tests, and a plugin tried out)."""
        added = [item for item in items if self._store_of(item).key_of(item) not in self._store_of(item)]
        self.register(*items)
        try:
            yield
        finally:
            self.unregister(*added)

    def register_nav_item(self, *items: NavItem) -> None:
        self._add("nav_items", items)

    def register_widget(self, *items: Widget) -> None:
        self._add("widgets", items)

    def register_checklist_item(self, *items: ChecklistItem) -> None:
        self._add("checklist_items", items)

    def register_event_type(self, *items: EventType) -> None:
        self._add("event_types", items)

    def register_event_handler(self, *items: EventHandler) -> None:
        self._add("event_handlers", items)

    def register_notification_rule(self, *items: NotificationRule) -> None:
        self._add("notification_rules", items)

    def register_permission(self, *items: Permission) -> None:
        self._add("permissions", items)

    def register_api_scope(self, *items: ApiScope) -> None:
        self._add("api_scopes", items)

    def register_periodic_task(self, *items: PeriodicTask) -> None:
        self._add("periodic_tasks", items)

    def register_sweeper(self, *items: Sweeper) -> None:
        self._add("sweepers", items)

    def register_search_provider(self, *items: SearchProvider) -> None:
        self._add("search_providers", items)

    def register_data_exporter(self, *items: DataExporter) -> None:
        self._add("data_exporters", items)

    def register_data_eraser(self, *items: DataEraser) -> None:
        self._add("data_erasers", items)

    def register_backup_part(self, *items: BackupPart) -> None:
        self._add("backup_parts", items)

    def register_retention_type(self, *items: RetentionType) -> None:
        self._add("retention_types", items)

    def register_quota(self, *items: Quota) -> None:
        self._add("quotas", items)

    def register_plugin(self, *items: Plugin) -> None:
        self._add("plugins", items)

    def register_graphql_type(self, *items: GraphQLType) -> None:
        self._add("graphql_types", items)

    def register_workflow_node(self, *items: WorkflowNode) -> None:
        self._add("workflow_nodes", items)

    # --- plugins per tenant --------------------------------------------------------------------

    def set_enabled_plugins(self, source: Callable[[], frozenset[str]] | None) -> None:
        """Where the labels of the plugins enabled for the tenant being served come from (the
        marketplace sets it; without one every installed plugin is on everywhere)."""
        self._enabled_plugins = source

    def plugin_of(self, store: str, key) -> str:
        """The label of the plugin that registered the item ("" if the hub did)."""
        app = self._stores[store].app_of(key)
        return app if app in self._stores["plugins"] else ""

    def enabled_plugins(self) -> frozenset[str]:
        """The plugins enabled for the tenant being served."""
        if self._enabled_plugins is None:
            return frozenset(self._stores["plugins"])
        return self._enabled_plugins()

    def active(self, store: str, items=None) -> list:
        """The items of `store` (or `items`, some of its items) the tenant being served may see:
        the hub's, and those of the plugins it has enabled. The one check every reader of the
        registry goes through, so a disabled plugin's pages, nav items, widgets, handlers,
        search providers and workflow nodes all disappear together."""
        the_store = self._stores[store]
        items = list(the_store.values() if items is None else items)
        if self._enabled_plugins is None or not self._stores["plugins"]:
            return items
        plugins, apps, enabled, shown = self._stores["plugins"], the_store._apps, None, []
        for item in items:
            app = apps.get(the_store.key_of(item), "")
            if app in plugins:
                if enabled is None:
                    enabled = self._enabled_plugins()  # asked once, and only when a plugin's item is there
                if app not in enabled:
                    continue
            shown.append(item)
        return shown

    # --- reading -------------------------------------------------------------------------------

    def app_of(self, store: str, key) -> str:
        return self._stores[store].app_of(key)

    def nav_items(self, section: str = "main") -> list[NavItem]:
        items = (i for i in self._stores["nav_items"].values() if i.section == section)
        return sorted(self.active("nav_items", items), key=lambda i: i.weight)

    def widgets(self) -> list[Widget]:
        return sorted(self.active("widgets"), key=lambda w: w.weight)

    def checklist_items(self) -> list[ChecklistItem]:
        return sorted(self.active("checklist_items"), key=lambda i: i.weight)

    def event_sentence(self, event) -> str:
        """The sentence people read about `event` (see EventType.summary)."""
        event_type = self._stores["event_types"].get(event.type)
        return event_type.sentence(event) if event_type is not None else "Something happened"

    def event_url(self, event) -> str:
        """The address of the object `event` is about, or ""."""
        event_type = self._stores["event_types"].get(event.type)
        return event_type.url(event) if event_type is not None else ""

    def event_label(self, name: str) -> str:
        """An event type's label, for people (its name only if no app declares it any more)."""
        event_type = self._stores["event_types"].get(name)
        if event_type is not None:
            return event_type.label
        return "Test event" if name.endswith(".test") else name

    def handlers_for(self, event_type: str) -> list[EventHandler]:
        """The handlers of `event_type`: those registered for it, then those for every type."""
        handlers = self._stores["event_handlers"].values()
        found = [h for h in handlers if h.event_type == event_type] + [h for h in handlers if h.event_type == "*"]
        return self.active("event_handlers", found)

    def personal_data_map(self) -> list[tuple[str, PersonalData]]:
        """Every model that holds personal data, with the label of the exporter that declares it."""
        return [(e.label, held) for e in self._stores["data_exporters"].values() for held in e.holds]

    def beat_schedule(self) -> dict[str, dict]:
        """The periodic tasks as Celery's beat_schedule."""
        return {
            t.name: {"task": t.task, "schedule": t.schedule, **({"kwargs": t.kwargs} if t.kwargs else {})}
            for t in self._stores["periodic_tasks"].values()
        }


registry = Registry()

register_nav_item = registry.register_nav_item
register_widget = registry.register_widget
register_checklist_item = registry.register_checklist_item
register_event_type = registry.register_event_type
register_event_handler = registry.register_event_handler
register_notification_rule = registry.register_notification_rule
register_permission = registry.register_permission
register_api_scope = registry.register_api_scope
register_periodic_task = registry.register_periodic_task
register_sweeper = registry.register_sweeper
register_retention_type = registry.register_retention_type
register_search_provider = registry.register_search_provider
register_data_exporter = registry.register_data_exporter
register_data_eraser = registry.register_data_eraser
register_backup_part = registry.register_backup_part
register_plugin = registry.register_plugin
register_graphql_type = registry.register_graphql_type
register_workflow_node = registry.register_workflow_node
register_quota = registry.register_quota
