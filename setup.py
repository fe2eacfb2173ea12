"""Builds the C snapshot walker; all other metadata lives in pyproject.toml."""

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
    ],
)
