"""Builds forkv's compiled parts; all other metadata lives in pyproject.toml.

- The hand-written C pieces: the snapshot walker (which must not touch reference counts in the
  save child), the startup loader's kernel for string records (persistence/_rdbload.c), the
  parser's inner loop and dispatch's per-command loop with GET/SET/INCR (and the keyspace walks
  of RANDOMKEY, SCAN and KEYS), the HyperLogLog register loops (server/_hll.c), the sorted
  sets' ordered index (server/_zskiplist.c) and scripting's crossings into Lua (server/_luabridge.c).
- The command path compiled from its own Python source with Cython (COMPILED below): the .py files
  stay the one source, and run as plain Python when they are not compiled.

The snapshot walker is required: without it a BGSAVE runs the pure-Python writer, whose reference
count writes copy most of the heap in the save child, so a walker that does not build fails the
build, loudly (FORKVPY_WALKER_OPTIONAL=1 accepts that cost and only warns). Everything else is
optional: without Cython, or if the parser/dispatch C pieces fail, forkv installs with a warning
and runs their pure-Python code (slower). FORKVPY_PURE=1 at build time skips the Cython step (the
C pieces are still built); at run time it makes the packages import the .py files even where
compiled modules exist (see server/__init__.py), which is how the tests run both.
"""

import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

WARNINGS = ["-O2", "-std=c11", "-Wall", "-Wextra"]

# The modules on the per-command path, compiled with Cython when it is present.
COMPILED = [
    "protocol/parser.py",
    "protocol/reply.py",
    "server/args.py",
    "server/client.py",
    "server/dispatch.py",
    "server/errors.py",
    "server/glob.py",
    "server/keyspace.py",
    "server/blocking.py",
    "server/hll.py",
] + sorted(p for p in glob.glob("server/commands/*.py") + glob.glob("server/types/*.py")
           if not p.endswith("__init__.py"))


WALKER = "persistence._walker"


def walker_required() -> bool:
    return not os.environ.get("FORKVPY_WALKER_OPTIONAL")


def walker_failed(exc: Exception, what: str = WALKER) -> SystemExit:
    return SystemExit(
        f"forkv: {what} did not build ({exc}).\n"
        "Without it every BGSAVE runs the pure-Python writer, which copies most of the heap in the\n"
        "save child. It needs a C compiler, the Python headers and CPython 3.11 to 3.13. Set\n"
        "FORKVPY_WALKER_OPTIONAL=1 to install without it anyway.")


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - no compiler at all
            if walker_required() and any(ext.name == WALKER for ext in self.extensions):
                raise walker_failed(exc, f"the C extensions ({WALKER} among them)") from exc
            self.warn(f"forkv: C extensions not built ({exc}); using the pure-Python implementations")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - this one failed to compile
            if ext.name == WALKER and walker_required():
                raise walker_failed(exc) from exc
            self.warn(f"forkv: {ext.name} not built ({exc}); using its pure-Python implementation")


def compiled_modules() -> list:
    if os.environ.get("FORKVPY_PURE"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("forkv: Cython is not installed; the command path runs as plain Python")
        return []
    return cythonize(
        [Extension(path[:-3].replace("/", "."), [path], extra_compile_args=["-O2"]) for path in COMPILED],
        compiler_directives={"language_level": 3, "infer_types": False, "annotation_typing": False, "binding": True,
                             "embedsignature": False, "always_allow_keywords": True},
        build_dir="build/cython",  # the generated C stays out of the source tree
        quiet=True,
    )


setup(
    cmdclass={"build_ext": OptionalBuildExt},
    ext_modules=[
        Extension(
            WALKER,
            sources=["persistence/_walker.c"],
            # An undeclared function is a CPython API this version lacks: it would build with a
            # warning and then fail at import, silently leaving the Python writer in charge.
            extra_compile_args=WARNINGS + ["-Wno-missing-field-initializers", "-Wno-unused-parameter",
                                           "-Werror=implicit-function-declaration"],
            libraries=["dl"],
        ),
        Extension("persistence._rdbload", sources=["persistence/_rdbload.c"], extra_compile_args=WARNINGS),
        Extension("server._fastpath", sources=["server/_fastpath.c"], extra_compile_args=WARNINGS),
        Extension("protocol._drain", sources=["protocol/_drain.c"], extra_compile_args=WARNINGS),
        Extension("server._hll", sources=["server/_hll.c"], extra_compile_args=WARNINGS),
        Extension("server._zskiplist", sources=["server/_zskiplist.c"], extra_compile_args=WARNINGS),
        Extension("server._luabridge", sources=["server/_luabridge.c"], extra_compile_args=WARNINGS,
                  libraries=["dl"]),
    ] + compiled_modules(),
)
