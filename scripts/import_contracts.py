"""The hub's own import-linter contract type, named in pyproject.toml's [tool.importlinter].

`app_layers` is import-linter's layers contract with one addition: the layer written `apps.*`
stands for every app under apps/ that no other layer names, i.e. the feature apps. So a new app is
checked as one the day it is added, with no change here. The feature apps form one layer that is
not independent (they may call each other's services and selectors), but none of them may import
another's models (nor anything under its models package).
"""

from importlinter.application import output
from importlinter.contracts.layers import Layer, LayersContract, ModuleTail
from importlinter.domain.contract import ContractCheck

WILDCARD = ".*"


class AppLayersContract(LayersContract):
    type_name = "app_layers"

    def check(self, graph, verbose: bool) -> ContractCheck:
        named = {tail.name for layer in self.layers for tail in layer.module_tails}
        self.feature_apps: list[str] = []
        layers = []
        for layer in self.layers:
            wildcards = [tail.name for tail in layer.module_tails if tail.name.endswith(WILDCARD)]
            if not wildcards:
                layers.append(layer)
                continue
            for parent in wildcards:
                self.feature_apps += sorted(set(graph.find_children(parent.removesuffix(WILDCARD))) - named)
            if self.feature_apps:
                layers.append(Layer({ModuleTail(app) for app in self.feature_apps}, is_independent=False))
        self.layers = layers
        check = super().check(graph, verbose)
        crossings = sorted(
            (importer, imported)
            for app in self.feature_apps
            for other in self.feature_apps
            if other != app
            for importer in {app, *graph.find_descendants(app)}
            for imported in graph.find_modules_directly_imported_by(importer)
            if imported == f"{other}.models" or imported.startswith(f"{other}.models.")
        )
        check.metadata["model_imports"] = crossings
        check.kept = check.kept and not crossings
        return check

    def render_broken_contract(self, check: ContractCheck) -> None:
        super().render_broken_contract(check)
        for importer, imported in check.metadata.get("model_imports", []):
            output.print_error(
                f"{importer} imports {imported}: a feature app uses another's services or selectors, never its models.",
                bold=False,
            )
            output.new_line()
