"""Builds the C snapshot walker, the parser's inner loop and dispatch's per-command loop; all other
metadata lives in pyproject.toml. Each has a pure-Python equivalent, used when it is not built: a
machine without a C compiler or the Python headers still installs forkv (slower), with a warning."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

WARNINGS = ["-O2", "-std=c11", "-Wall", "-Wextra"]


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - no compiler at all
            self.warn(f"forkv: C extensions not built ({exc}); using the pure-Python implementations")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - this one failed to compile
            self.warn(f"forkv: {ext.name} not built ({exc}); using its pure-Python implementation")


setup(
    cmdclass={"build_ext": OptionalBuildExt},
    ext_modules=[
        Extension(
            "persistence._walker",
            sources=["persistence/_walker.c"],
            extra_compile_args=WARNINGS + ["-Wno-missing-field-initializers", "-Wno-unused-parameter"],
            libraries=["dl"],
        ),
        Extension("server._fastpath", sources=["server/_fastpath.c"], extra_compile_args=WARNINGS),
        Extension("protocol._drain", sources=["protocol/_drain.c"], extra_compile_args=WARNINGS),
    ],
)
