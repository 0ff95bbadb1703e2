from apps.core.plugins import PluginConfig


class HelloConfig(PluginConfig):
    """Greets each new member of an organisation: an example of a plugin, end to end.

    TENANT (a plugin's default): a tenant's greetings live in its own schema. Its page is
    /plugins/hello/, its API /api/v1/plugins/hello/greetings/; it adds a navigation item, a home
    widget, a permission, an API scope and a handler of `member.joined`.
    """

    name = "plugins.hello"
    label = "hello"
    verbose_name = "Hello"
    version = "1.0.0"
    author = "ReactDjango-Hub"
    description = "Greets each new member of the organisation."
    min_hub_version = "0.7"
    max_hub_version = "0"  # any 0.x
    required_settings = ("HELLO_GREETING",)
    asks_for = ("members.read", "data.store", "pages", "home.widgets", "api")
    default_enabled = True  # the example: on in every organisation until it is disabled there

    def ready(self):
        from apps.core.registry import (
            ApiScope,
            EventHandler,
            NavItem,
            Permission,
            Widget,
            register_api_scope,
            register_event_handler,
            register_nav_item,
            register_permission,
            register_widget,
        )

        from .services import greet_new_member

        register_permission(Permission("hello.view", "See the greetings", role="viewer"))
        register_api_scope(ApiScope("hello", "Greetings of new members.", read_only=True, label="Greetings"))
        register_nav_item(NavItem("Greetings", "hello:index", icon="users", permission="hello.view", weight=60))
        register_widget(Widget("hello.latest", "Latest greetings", "hello/widget.html", permission="hello.view"))
        register_event_handler(EventHandler("member.joined", greet_new_member))
        from auditlog.registry import auditlog

        from .models import Greeting

        auditlog.register(Greeting)
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "hello",
            "Greetings",
            (
                PersonalData(
                    "hello.Greeting", ("activity",), ("message", "created"), "Greet new members.", erasure="delete"
                ),
            ),
        )
        register_data_exporter(exporter)
        register_data_eraser(eraser)
