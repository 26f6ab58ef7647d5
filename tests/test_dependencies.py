"""Every library the package imports when a module loads is installed by ``pip install .``.

The test extras install more (pandas, statsmodels, pyspark, ...), so a module that
imports one of those at load time passes the suite and fails for a user who installed
waarborg alone. Imports inside functions (optional engines such as Spark) are left out:
they fail with their own message when used.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """The distribution a requirement names, normalised (``psycopg[binary]>=3`` -> psycopg)."""
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _installed_with(names: set[str]) -> set[str]:
    """``names`` and every distribution they require, without extras, transitively."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:  # another platform's (colorama on Windows)
            continue
        found.add(name)
        for requirement in requires:
            if "extra ==" not in requirement.replace('"', "").replace("'", ""):
                todo.append(_name(requirement))
    return found


def _imported_at_load(path: Path) -> set[str]:
    """Top-level names of the modules a file imports in its module body."""
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out - set(sys.stdlib_module_names) - {"waarborg", "__future__"}


def test_modules_imported_at_load_are_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _installed_with({_name(r) for r in project["dependencies"]})
    distributions = metadata.packages_distributions()
    missing = {}
    for path in sorted((ROOT / "src" / "waarborg").rglob("*.py")):
        for module in _imported_at_load(path):
            names = {_name(d) for d in distributions.get(module, [module])}
            if not names & installed:
                missing[f"{path.relative_to(ROOT)}: {module}"] = sorted(names)
    assert not missing, f"imported at load but not a dependency in pyproject.toml: {missing}"
