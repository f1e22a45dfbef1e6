"""Imports flow one way (STYLE.md rule 1, issue #13): routes -> services -> models -> utils -> schemas/config.

Every module under app/ is parsed with `ast` (nothing is imported), so the rule holds for imports
inside functions too. `tasks` wrap services for Celery; only `app.main` wires routes and tasks.
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"

# layer -> the app packages it may never import
FORBIDDEN = {
    "app.services": ("app.routes", "app.tasks", "app.main"),
    "app.models": ("app.routes", "app.tasks", "app.main", "app.services"),
    "app.utils": ("app.routes", "app.tasks", "app.main", "app.services", "app.models"),
    "app.tasks": ("app.routes", "app.main"),
    "app.config": ("app.routes", "app.tasks", "app.main", "app.services", "app.models", "app.utils",
                   "app.schemas"),
}
SCHEMAS_MAY_IMPORT = ("app.schemas", "app.config")


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every app module `path` imports (`from app.x import y` counts as app.x and app.x.y)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(APP.rglob("*.py"))}


def test_the_parser_sees_imports_of_every_form():
    graph = _graph()
    assert "app.services.batch_jobs" in graph["app.tasks.scheduled"]
    assert "app.routes.jobs" in graph["app.main"]  # `from app.routes import ..., jobs, ...`
    assert len(graph) > 80


def test_imports_flow_one_way():
    violations = []
    for module, imported in _graph().items():
        for layer, forbidden in FORBIDDEN.items():
            if _within(module, layer):
                violations += [f"{module} imports {name}" for name in sorted(imported)
                               if any(_within(name, bad) for bad in forbidden)]
        if _within(module, "app.schemas"):
            violations += [f"{module} imports {name}" for name in sorted(imported)
                           if not any(_within(name, ok) for ok in SCHEMAS_MAY_IMPORT)]
        if not _within(module, "app.routes") and module != "app.main":
            violations += [f"{module} imports {name}" for name in sorted(imported) if _within(name, "app.routes")]
    assert violations == []
