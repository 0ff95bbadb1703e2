"""marketplace's GraphQL types (apps.api.graphql): the organisation's plugins and whether each is
enabled here, over the selectors and services of /api/v1/marketplace/plugins/ (api/views.py),
with the same scope (`plugins`) and permission (marketplace.manage). A plugin is named by its
label. Its settings are not shown here (only over REST, which knows which are secret)."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.graphql import context, filtered_by_choice, needs

from . import selectors, services
from .models import PluginInstall

READ = needs("plugins", "marketplace.manage")
WRITE = needs("plugins", "marketplace.manage", write=True)


@strawberry.type(description="A plugin installed on the platform, and its state in this organisation.")
class Plugin:
    label: strawberry.ID
    state: str = strawberry.field(description="available, enabled, disabled, broken or uninstalled.")
    reason: str = strawberry.field(description="Why it is disabled (a failure's words), or empty.")
    changed: datetime

    @strawberry.field
    def name(self: PluginInstall) -> str:
        return selectors.plugin_get(self.label).name

    @strawberry.field
    def version(self: PluginInstall) -> str:
        return selectors.plugin_get(self.label).version

    @strawberry.field
    def description(self: PluginInstall) -> str:
        return selectors.plugin_get(self.label).description


def _installs():
    services.plugins_sync()  # as the REST list: a plugin installed since has its row
    return selectors.install_list()


@strawberry.type
class MarketplaceQuery:
    @relay.connection(relay.ListConnection[Plugin], permission_classes=[READ])
    def plugins(self, info: Info, state: str | None = None) -> Iterable[Plugin]:
        """The installed plugins by label, in one state if given (as GET /api/v1/marketplace/plugins/)."""
        return filtered_by_choice(_installs(), "state", state, PluginInstall.State)

    @strawberry.field(permission_classes=[READ])
    def plugin(self, info: Info, label: strawberry.ID) -> Plugin | None:
        """One plugin (null: none of that label)."""
        return _installs().filter(label=str(label)).first()


@strawberry.type
class MarketplaceMutation:
    @strawberry.mutation(permission_classes=[WRITE])
    def enable_plugin(self, info: Info, label: strawberry.ID) -> Plugin:
        """Enable the plugin here (runs its migrations), as POST /api/v1/marketplace/plugins/{label}/enable/."""
        install = _installs().get(label=str(label))
        ctx = context(info)
        return services.plugin_enable(tenant=ctx.tenant, actor=ctx.user, label=install.label)

    @strawberry.mutation(permission_classes=[WRITE])
    def disable_plugin(self, info: Info, label: strawberry.ID) -> Plugin:
        """Disable the plugin here (its data is kept), as POST /api/v1/marketplace/plugins/{label}/disable/."""
        install = _installs().get(label=str(label))
        ctx = context(info)
        return services.plugin_disable(tenant=ctx.tenant, actor=ctx.user, label=install.label)


ROOT_FIELDS = ("plugins", "plugin", "enablePlugin", "disablePlugin")
