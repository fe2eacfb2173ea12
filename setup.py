"""Builds the C snapshot walker, the parser's inner loop and dispatch's per-command loop; all other
metadata lives in pyproject.toml. Each has a pure-Python equivalent, used when it is not built."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "persistence._walker",
            sources=["persistence/_walker.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                                "-Wno-unused-parameter"],
            libraries=["dl"],
        ),
        Extension(
            "server._fastpath",
            sources=["server/_fastpath.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
        ),
        Extension(
            "protocol._drain",
            sources=["protocol/_drain.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
        ),
    ],
)
