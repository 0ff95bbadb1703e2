"""The hub's registry: one dict with fixed stores, filled by apps in AppConfig.ready().

The UI shell draws its navigation and home widgets from it, the API lists its event types,
compliance walks its personal-data exporters and erasers. Nothing adds a store later.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str  # reversed against the tenant URLconf
    icon: str = ""  # a name from static/hub/icons.svg
    permission: str = ""  # role permission needed to see it; "" = every member
    weight: int = 100  # lower comes first
    section: str = "main"


@dataclass(frozen=True)
class Widget:
    title: str
    template: str
    permission: str = ""
    weight: int = 100


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    payload_schema: dict = field(default_factory=dict)


STORES = (
    "nav_items",
    "widgets",
    "event_types",
    "data_exporters",
    "data_erasers",
    "plugins",
    "search_providers",
)


class Registry(dict):
    """A dict whose keys are fixed: reading or writing an unknown store is an error."""

    def __init__(self):
        super().__init__({store: [] if store != "event_types" else {} for store in STORES})

    def __setitem__(self, key, value):
        raise TypeError("registry stores are fixed; add to an existing store instead")

    def nav_items(self, section="main"):
        return sorted((i for i in self["nav_items"] if i.section == section), key=lambda i: i.weight)

    def register_event_type(self, event_type: EventType):
        if event_type.name in self["event_types"]:
            raise ValueError(f"event type {event_type.name!r} is registered twice")
        self["event_types"][event_type.name] = event_type


registry = Registry()
