"""Imports flow one way (STYLE.md rule 1, issue #13): routes -> services -> models -> utils -> schemas/config;
and inside `app/services`, each room (capability) imports only the rooms its docstring names (issue #22).

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
# room of app/services -> the other rooms it may import (as each room's __init__ docstring says)
ROOMS_MAY_IMPORT = {
    "forecasting": {"records"},
    "decisions": {"forecasting", "records"},
    "analytics": {"forecasting", "records"},
    "jobs": {"forecasting", "records"},
    "records": set(),
}
SERVICES = APP / "services"


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
    assert "app.services.jobs.batch_jobs" in graph["app.tasks.scheduled"]
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


def test_every_service_module_lives_in_a_room_that_says_what_it_holds():
    loose = sorted(p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py")
    assert loose == [], "put these in a room (a subpackage of app/services): " + ", ".join(loose)
    rooms = {p.name for p in SERVICES.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == set(ROOMS_MAY_IMPORT)
    for room in rooms:
        doc = ast.get_docstring(ast.parse((SERVICES / room / "__init__.py").read_text())) or ""
        allowed = ROOMS_MAY_IMPORT[room]
        assert "May import" in doc, f"{room}/__init__.py says which rooms it may import"
        assert all(f"`{other}`" in doc.split("May import")[1] for other in allowed), room


def test_rooms_import_only_the_rooms_they_may():
    violations = []
    for module, imported in _graph().items():
        parts = module.split(".")
        if len(parts) < 3 or parts[:2] != ["app", "services"]:
            continue
        room = parts[2]
        for name in sorted(imported):
            other = name.split(".")
            if len(other) >= 3 and other[:2] == ["app", "services"] and other[2] != room \
                    and other[2] not in ROOMS_MAY_IMPORT[room]:
                violations.append(f"{module} imports {name}")
    assert violations == []
