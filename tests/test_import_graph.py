"""The modules of core, schema, web and plugins import one another without cycles (imports
written only for type checkers excepted), and core never imports a plugin."""

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "schema", "web", "plugins", "agendum_testing")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for package in PACKAGES
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _ours(name: str, importer: str) -> set[str]:
    """The modules of ours that `importer` needs run to import `name`: it, and the packages it is
    in that do not also hold the importer (those are already running)."""
    parts = name.split(".")
    outer = {".".join(parts[:i]) for i in range(1, len(parts))} - set(_packages_of(importer))
    return ({name} | outer) & MODULES.keys()


def _packages_of(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports(path: Path) -> set[str]:
    """What a module imports when it runs, at any depth (functions included), except under TYPE_CHECKING."""
    importer = _module_name(path)
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.update(_ours(alias.name, importer))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(_ours(node.module, importer) - {node.module})  # the packages it is in
            if len(submodules) < len(node.names):  # some names are defined in the module itself
                found.update({node.module} & MODULES.keys())
            for module in submodules:
                found.update(_ours(module, importer))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def test_the_modules_import_one_another_without_cycles():
    sorter = graphlib.TopologicalSorter(GRAPH)
    try:
        sorter.prepare()
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_core_never_imports_a_plugin():
    offenders = {
        name: sorted(m for m in imported if m.split(".")[0] == "plugins")
        for name, imported in GRAPH.items()
        if name.split(".")[0] == "core"
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_graph_sees_the_modules_and_their_imports():
    assert {"core.email.delivery", "core.plugins.host", "schema.build", "web.pages"} <= GRAPH.keys()
    assert "core.email.smtp" in GRAPH["core.settings"]
