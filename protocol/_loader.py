"""Chooses between a module compiled from forkv's own Python source (Cython, see setup.py) and the
.py file it was compiled from. It must stay free of forkv imports: it runs before any of them.

The .py file is the one source; its compiled twin is only a faster way to run it. The source is
imported instead of the compiled module when
- FORKVPY_PURE is set (non-empty, not "0") in the environment (not FORKV_...: those are all
  configuration directives): the test suite runs once
  compiled and once as plain Python, so that the two cannot drift apart unseen; or
- in a source checkout (setup.py beside the package), the .py file is newer than the compiled
  module: a developer edited the source and has not rebuilt yet (`make` rebuilds), so running
  stale compiled code would be wrong. An installed copy is never second-guessed: installers do
  not keep file times, so there a .py may well look newer than its compiled twin.
Hand-written C modules (`_fastpath`, `_drain`, `_walker`, `_rdbload`) have no .py twin and are never affected.
Where one of them is a kernel with a Python reference beside it, `kernel` below makes the one
choice between the two that every such site shares.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

PACKAGES = ("protocol.", "server.", "persistence.")


def pure_python() -> bool:
    return os.environ.get("FORKVPY_PURE", "") not in ("", "0")


def kernel(module: str, attr: str | None = None) -> Any:
    """A hand-written C kernel: the module named `module` (e.g. "server._hll"), or its attribute
    `attr`; None when the caller should run its Python reference instead, that is when
    pure_python() is true (the suite's second pass runs every reference) or when the module is not
    built. Only the ImportError of importing `module` is swallowed: an attribute missing from a
    built module is a bug (a kernel out of step with its caller) and raises AttributeError."""
    if pure_python():
        return None
    try:
        found = importlib.import_module(module)
    except ImportError:  # not built
        return None
    return found if attr is None else getattr(found, attr)


class _SourceFirst(importlib.machinery.PathFinder):
    """A path finder that hands back the .py source of a compiled forkv module when it should run
    as plain Python (see the module docstring); every other import is left to the usual finders."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGES) or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return None
        source = os.path.join(os.path.dirname(spec.origin), fullname.rsplit(".", 1)[1] + ".py")
        if not os.path.exists(source):
            return None  # hand-written C: no source twin
        if not pure_python() and not _stale(source, spec.origin):
            return None  # the compiled module is up to date: use it
        return importlib.util.spec_from_file_location(fullname, source)


def _stale(source: str, compiled_path: str) -> bool:
    """Whether a compiled module in a source checkout is older than its .py file."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(package_root, "setup.py")):
        return False
    return os.path.getmtime(source) > os.path.getmtime(compiled_path)


def install() -> None:
    if not any(finder is _SourceFirst for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst)


def compiled(module) -> bool:
    """Whether `module` runs compiled (its file is a shared object, not a .py)."""
    return not getattr(module, "__file__", "").endswith(".py")

