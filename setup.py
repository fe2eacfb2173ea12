"""Builds the C snapshot walker and the parser's inner loop; all other metadata lives in
pyproject.toml. Both have pure-Python equivalents that are used when these are not built."""

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
            "protocol._drain",
            sources=["protocol/_drain.c"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
        ),
    ],
)
