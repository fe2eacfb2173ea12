"""setup.py never leaves a checkout without its snapshot walker by accident: a walker that does
not compile stops the build with the reason (the pure-Python writer it would fall back to copies
most of the heap in a save child), unless FORKVPY_WALKER_OPTIONAL=1 accepts that."""

import os
import subprocess
import sys

from tests.servers import REPO


def _build_with_a_broken_compiler(tmp_path, optional: bool):
    """build_ext into tmp_path (never in place) with a C compiler that always fails."""
    env = {k: v for k, v in os.environ.items() if k != "FORKVPY_WALKER_OPTIONAL"}
    env.update(CC="false", FORKVPY_PURE="1")
    if optional:
        env["FORKVPY_WALKER_OPTIONAL"] = "1"
    return subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "-b", str(tmp_path / "lib"),
                           "-t", str(tmp_path / "tmp")], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_walker_that_does_not_build_fails_the_build(tmp_path):
    out = _build_with_a_broken_compiler(tmp_path, optional=False)
    assert out.returncode != 0
    assert "persistence._walker did not build" in out.stderr, out.stderr
    assert "FORKVPY_WALKER_OPTIONAL=1" in out.stderr


def test_the_walker_can_be_made_optional_knowingly(tmp_path):
    out = _build_with_a_broken_compiler(tmp_path, optional=True)
    assert out.returncode == 0, out.stderr
    assert "persistence._walker not built" in out.stderr + out.stdout
