from apps.core.plugins import PluginConfig


class PulseConfig(PluginConfig):
    """Team pulse: members say how their week is going (a score and a word), and thank each
    other; a home widget shows the week's average and the latest thanks. Its settings choose
    the question asked and the scale.

    TENANT (a plugin's default): a tenant's check-ins and thanks live in its own schema — and
    only in the schemas of tenants that enabled it.
    """

    name = "plugins.pulse"
    label = "pulse"
    verbose_name = "Team pulse"
    version = "1.0.0"
    author = "ReactDjango-Hub"
    description = "Members check in on how their week goes and thank each other; a home card shows the mood."
    min_hub_version = "0.7"
    max_hub_version = "0"
    asks_for = ("members.read", "data.store", "pages", "home.widgets", "api")
    config_schema = {
        "type": "object",
        "properties": {
            "question": {
                "type": "string",
                "title": "Question",
                "minLength": 3,
                "maxLength": 120,
                "default": "How is your week going?",
            },
            "scale": {"type": "integer", "title": "Highest score", "minimum": 3, "maximum": 10, "default": 5},
            "show_names": {"type": "boolean", "title": "Show who checked in on the home card", "default": False},
        },
        "required": ["question", "scale"],
        "additionalProperties": False,
    }

    def ready(self):
        from apps.core.registry import (
            ApiScope,
            NavItem,
            Permission,
            Widget,
            register_api_scope,
            register_nav_item,
            register_permission,
            register_widget,
        )

        register_permission(Permission("pulse.use", "Team pulse: check in and thank", role="member"))
        register_api_scope(ApiScope("pulse", "Team pulse check-ins.", read_only=True, label="Team pulse"))
        register_nav_item(NavItem("Team pulse", "pulse:index", permission="pulse.use", weight=65))
        register_widget(Widget("pulse.mood", "Team pulse", "pulse/widget.html", permission="pulse.use", weight=40))
        from auditlog.registry import auditlog

        from .models import Checkin, Kudos

        auditlog.register(Checkin)
        auditlog.register(Kudos)
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "pulse",
            "Team pulse",
            (
                PersonalData(
                    "pulse.Checkin", ("content",), ("score", "note", "created"),
                    "A member's check-in on their week, shown as the team's mood.", erasure="delete",
                ),
                PersonalData(
                    "pulse.Kudos", ("content",), ("sender_id", "recipient_id", "message", "created"),
                    "Thanks from one member to another.", erasure="delete",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
