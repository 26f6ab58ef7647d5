"""Build hook: compile the translation catalogs (.po -> .mo) into the built package.

Everything else is in pyproject.toml. The compiler is waarborg's own
(``src/waarborg/i18n/compile.py``), loaded by path: the package itself is not importable
yet while it is being built, and that module needs only the standard library and Babel
(a build requirement).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _compiler():  # type: ignore[no-untyped-def]  # a module loaded by path
    spec = importlib.util.spec_from_file_location(
        "_waarborg_i18n_compile", HERE / "src" / "waarborg" / "i18n" / "compile.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithCatalogs(build_py):
    """``build_py`` that also writes ``waarborg/locale/<lang>/LC_MESSAGES/*.mo``."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install compiles on first use instead
            for mo in _compiler().compile_tree(Path(self.build_lib) / "waarborg" / "locale"):
                print(f"compiled {mo}")


setup(cmdclass={"build_py": BuildWithCatalogs})
