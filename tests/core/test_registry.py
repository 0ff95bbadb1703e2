"""The registry: fixed stores of typed items, one register_* function per store, duplicates
refused, registration order kept, each item recorded with the app that registered it; the
system check that what an item names exists; the apps' own entries."""

import pytest
from django.conf import settings

from apps.core import registry as registry_module
from apps.core.checks import check_registry
from apps.core.registry import (
    STORES,
    ApiScope,
    BackupPart,
    ChecklistItem,
    DataEraser,
    DataExporter,
    EventHandler,
    EventType,
    GraphQLType,
    NavItem,
    NotificationRule,
    PeriodicTask,
    Permission,
    Plugin,
    Quota,
    Registry,
    RetentionType,
    SearchProvider,
    SearchResult,
    Sweeper,
    Widget,
    WorkflowNode,
    registering_for,
    registry,
)
from apps.identity.roles import Role, check_permission_roles, has_permission
from tests.conftest import client_for
from tests.factories import MembershipFactory


def _handler(event):
    pass


def _other_handler(event):
    pass


def _search(*, query, tenant, user, limit):
    return [SearchResult(f"Found {query}", "/somewhere/")]


# store -> (its register function's name, an item with key `k`; `v` varies the item, not its key)
CASES = {
    "nav_items": ("register_nav_item", lambda k, v=0: NavItem(f"Label {v}", k)),
    "widgets": ("register_widget", lambda k, v=0: Widget(k, f"Title {v}", "w.html")),
    "checklist_items": (
        "register_checklist_item",
        lambda k, v=0: ChecklistItem(k, f"Label {v}", "home", _handler),
    ),
    "event_types": ("register_event_type", lambda k, v=0: EventType(k, f"Label {v}", "What happened.")),
    "event_handlers": ("register_event_handler", lambda k, v=0: EventHandler(k, _handler, batch=bool(v))),
    "notification_rules": (
        "register_notification_rule",
        lambda k, v=0: (
            NotificationRule(k, lambda e: [1], lambda e: "title", url=f"/{v}/")
            if v
            else NotificationRule(k, _handler, _handler)
        ),
    ),
    "permissions": ("register_permission", lambda k, v=0: Permission(k, f"Label {v}", role="member")),
    "api_scopes": ("register_api_scope", lambda k, v=0: ApiScope(k, f"Scope {v}")),
    "periodic_tasks": ("register_periodic_task", lambda k, v=0: PeriodicTask(k, "some.task", 60.0 + v)),
    "sweepers": ("register_sweeper", lambda k, v=0: Sweeper(k, _other_handler if v else _handler)),
    "search_providers": ("register_search_provider", lambda k, v=0: SearchProvider(k, f"Label {v}", _search)),
    "data_exporters": ("register_data_exporter", lambda k, v=0: DataExporter(k, f"Label {v}", _handler)),
    "data_erasers": ("register_data_eraser", lambda k, v=0: DataEraser(k, f"Label {v}", _handler)),
    "backup_parts": ("register_backup_part", lambda k, v=0: BackupPart(k, members=bool(v))),
    "plugins": ("register_plugin", lambda k, v=0: Plugin(k, f"Name {v}", "1.0.0")),
    "graphql_types": ("register_graphql_type", lambda k, v=0: GraphQLType(k, object, description=f"{v}")),
    "workflow_nodes": (
        "register_workflow_node",
        lambda k, v=0: WorkflowNode(k, "action", f"Label {v}", run=_handler),
    ),
    "retention_types": (
        "register_retention_type",
        lambda k, v=0: RetentionType(k, f"Label {v}", "notifications.Notification", "created"),
    ),
    "quotas": ("register_quota", lambda k, v=0: Quota(k, f"Label {v}", _handler)),
}


def test_stores_are_fixed_and_each_has_a_typed_register_function():
    fresh = Registry()
    assert list(fresh) == list(STORES) == list(CASES)
    with pytest.raises(TypeError):
        fresh["new_store"] = []
    with pytest.raises(KeyError):
        fresh["no_such_store"]
    for function, _ in CASES.values():
        assert callable(getattr(registry_module, function)), function  # the module-level function
        assert getattr(registry_module, function).__self__ is registry


@pytest.mark.parametrize("store", list(CASES))
def test_each_store_keeps_registration_order_and_refuses_duplicates(store):
    function, make = CASES[store]
    fresh = Registry()
    register = getattr(fresh, function)
    register(make("b.key"), make("a.key"))
    register(make("c.key"))
    keys = [fresh[store].key_of(make(k)) for k in ("b.key", "a.key", "c.key")]
    assert list(fresh[store]) == keys
    assert list(fresh[store].values()) == [make(k) for k in ("b.key", "a.key", "c.key")]
    assert fresh[store][keys[1]] == make("a.key")

    register(make("a.key"))  # the same declaration again (a ready() that runs twice): nothing changes
    assert len(fresh[store]) == 3
    with pytest.raises(ValueError, match="registered twice"):
        register(make("a.key", 1))
    assert fresh[store][keys[1]] == make("a.key")
    with pytest.raises(TypeError, match=f"the {store} store takes"):
        register(object())
    assert all(len(fresh[other]) == 0 for other in STORES if other != store)  # nothing leaks elsewhere


@pytest.mark.parametrize("store", list(CASES))
def test_items_record_the_app_that_registered_them(store):
    function, make = CASES[store]
    fresh = Registry()
    with registering_for("reports"):
        getattr(fresh, function)(make("x.key"))
    getattr(fresh, function)(make("y.key"))
    assert fresh.app_of(store, fresh[store].key_of(make("x.key"))) == "reports"
    assert fresh.app_of(store, fresh[store].key_of(make("y.key"))) == ""


def test_registered_adds_for_the_block_only_and_leaves_what_was_there():
    fresh = Registry()
    kept = NavItem("Kept", "kept")
    fresh.register_nav_item(kept)
    with fresh.registered(kept, NavItem("Extra", "extra"), Permission("extra.view", "Extra", role="viewer")):
        assert list(fresh["nav_items"]) == ["kept", "extra"] and "extra.view" in fresh["permissions"]
    assert list(fresh["nav_items"]) == ["kept"] and not fresh["permissions"]


def test_nav_items_and_widgets_are_read_by_weight():
    fresh = Registry()
    fresh.register_nav_item(NavItem("B", "b", weight=20), NavItem("A", "a", weight=10), NavItem("X", "x", section="f"))
    fresh.register_widget(Widget("w.late", "Late", "l.html", weight=50), Widget("w.early", "Early", "e.html", weight=5))
    assert [i.label for i in fresh.nav_items()] == ["A", "B"]
    assert [i.label for i in fresh.nav_items("f")] == ["X"]
    assert [w.key for w in fresh.widgets()] == ["w.early", "w.late"]


def test_handlers_of_a_type_come_before_the_handlers_of_every_type():
    fresh = Registry()
    everything = EventHandler("*", _other_handler, batch=True)
    joined = EventHandler("member.joined", _handler)
    fresh.register_event_handler(everything, joined, EventHandler("member.removed", _handler))
    assert fresh.handlers_for("member.joined") == [joined, everything]
    assert fresh.handlers_for("invitation.sent") == [everything]


def test_periodic_tasks_make_the_beat_schedule():
    fresh = Registry()
    fresh.register_periodic_task(PeriodicTask("a", "x.a", 5.0), PeriodicTask("b", "x.b", 60.0, kwargs={"n": 1}))
    assert fresh.beat_schedule() == {
        "a": {"task": "x.a", "schedule": 5.0},
        "b": {"task": "x.b", "schedule": 60.0, "kwargs": {"n": 1}},
    }


def test_workflow_nodes_must_be_a_trigger_with_an_event_type_or_an_action_with_something_to_run():
    WorkflowNode("on.join", "trigger", "When someone joins", event_type="member.joined")
    with pytest.raises(ValueError, match="names no event type"):
        WorkflowNode("on.nothing", "trigger", "Never")
    with pytest.raises(ValueError, match="nothing to run"):
        WorkflowNode("do.nothing", "action", "Nothing")
    with pytest.raises(ValueError, match="kind must be"):
        WorkflowNode("odd", "sideways", "Odd", run=_handler)


def test_the_check_reports_unknown_permissions_and_event_types_naming_the_app():
    fresh = Registry()
    with registering_for("reports"):
        fresh.register_nav_item(NavItem("Reports", "reports:index", permission="reports.view"))
        fresh.register_event_handler(EventHandler("report.made", _handler), EventHandler("*", _other_handler))
        fresh.register_workflow_node(WorkflowNode("on.report", "trigger", "On report", event_type="report.made"))
    errors = check_registry(hub_registry=fresh)
    assert sorted(e.id for e in errors) == ["hub.E001", "hub.E002", "hub.E002"]
    assert any("'reports:index' (app reports) needs the permission 'reports.view'" in e.msg for e in errors)
    assert any("'_handler' (app reports) names the event type 'report.made'" in e.msg for e in errors)

    fresh.register_permission(Permission("reports.view", "See reports", role="viewer"))
    fresh.register_event_type(EventType("report.made", "Report made", "A report was made."))
    assert check_registry(hub_registry=fresh) == []


def test_the_hubs_own_registry_passes_the_checks():
    assert check_registry() == []
    assert check_permission_roles() == []


def test_a_permission_naming_no_role_fails_identitys_check():
    with registry.registered(Permission("reports.view", "See reports", role="boss")):
        errors = check_permission_roles()
    assert [e.id for e in errors] == ["identity.E001"]
    assert "'reports.view'" in errors[0].msg and "'boss'" in errors[0].msg


# --- What the apps register ---------------------------------------------------------------------


def test_each_fact_is_registered_by_its_owner():
    owners = {
        ("event_types", "organisation.settings_changed"): "tenancy",
        ("event_types", "member.joined"): "identity",
        ("event_types", "webhook.endpoint_disabled"): "notifications",
        ("notification_rules", "member.joined"): "identity",
        ("notification_rules", "webhook.endpoint_disabled"): "notifications",
        ("permissions", "tenant.delete"): "tenancy",
        ("permissions", "members.invite"): "identity",
        ("permissions", "api_keys.manage"): "api",
        ("api_scopes", "events"): "events",
        ("api_scopes", "webhooks"): "notifications",
        ("periodic_tasks", "events-sweep"): "events",
        ("periodic_tasks", "api-usage-flush"): "api",
        ("sweepers", "webhook-deliveries"): "notifications",
        ("backup_parts", "tenancy.Domain"): "tenancy",
        ("backup_parts", "identity.Membership"): "identity",
        ("nav_items", "members"): "identity",
        ("widgets", "notifications.activity"): "notifications",
    }
    assert {key: registry.app_of(*key) for key in owners} == owners


def test_every_event_type_has_a_label_and_description_for_people():
    for event_type in registry["event_types"].values():
        assert event_type.label and event_type.description, event_type.name
        assert event_type.label != event_type.name


def test_roles_get_their_permissions_from_the_registry():
    # What each role of the hub's own apps may do, as tenancy, identity and api declare it.
    viewer = {"tenant.view", "members.view"}
    admin = viewer | {"members.invite", "members.manage", "settings.change", "audit.view", "api_keys.manage"}
    owner = admin | {"owners.manage", "tenant.delete", "security.policy"}
    expected = {Role.VIEWER: viewer, Role.MEMBER: viewer, Role.ADMIN: admin, Role.OWNER: owner}
    hub_apps = {"tenancy", "identity", "api"}
    hub_permissions = {code for code in registry["permissions"] if registry.app_of("permissions", code) in hub_apps}
    for role, codes in expected.items():
        assert {code for code in hub_permissions if has_permission(role, code)} == codes, role
    assert has_permission(Role.VIEWER, "")  # no permission needed
    assert not has_permission(Role.OWNER, "no.such_permission")
    # A permission an app adds for members reaches every role above too.
    with registry.registered(Permission("reports.edit", "Edit reports", role="member")):
        assert [has_permission(r, "reports.edit") for r in Role.values] == [True, True, True, False]
    assert not has_permission(Role.OWNER, "reports.edit")


def test_beat_runs_the_registered_periodic_tasks():
    from config.celery import app

    app.finalize()  # what beat and the worker do once Django is set up (a real beat: tests/e2e/test_beat.py)
    schedule = app.conf.beat_schedule
    assert schedule["events-sweep"] == {
        "task": "apps.events.tasks.sweep_all_tenants",
        "schedule": settings.HUB_EVENTS_SWEEP_SECONDS,
    }
    assert schedule["api-usage-flush"]["task"] == "api.usage_flush"
    assert schedule["api-idempotency-purge"]["schedule"] == 3600.0


@pytest.mark.django_db
def test_shell_draws_navigation_from_the_registry_by_role(tenant_a, owner_a):
    with registry.registered(NavItem("Reports", "profile", permission="settings.change", weight=50)):
        owner_page = client_for(tenant_a, owner_a).get("/").content.decode()
        viewer = MembershipFactory(tenant=tenant_a, role="viewer")
        viewer_page = client_for(tenant_a, viewer.user).get("/").content.decode()
    assert ">Reports<" in owner_page and ">Settings<" in owner_page
    assert ">Reports<" not in viewer_page and ">Settings<" not in viewer_page
    assert ">Members<" in viewer_page


@pytest.mark.django_db
def test_home_draws_the_registered_widgets_by_role(tenant_a, owner_a):
    template = "notifications/widgets/activity.html"
    card = Widget("test.admins", "Admins only card", template, permission="settings.change")
    with registry.registered(card):
        owner_page = client_for(tenant_a, owner_a).get("/").content.decode()
        viewer = MembershipFactory(tenant=tenant_a, role="viewer")
        viewer_page = client_for(tenant_a, viewer.user).get("/").content.decode()
    assert ">Admins only card</h2>" in owner_page and ">Recent activity</h2>" in owner_page
    assert "Admins only card" not in viewer_page and ">Recent activity</h2>" in viewer_page
