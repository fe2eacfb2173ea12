"""The command path runs compiled from its own Python source, or as that source: never a mix by
accident. `make test` runs the suite both ways (FORKVPY_EXPECT_COMPILED=1, then FORKVPY_PURE=1)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from protocol import _loader
from tests.servers import REPO

# One module per package part that setup.py compiles.
MODULES = ["protocol.parser", "protocol.reply", "server.dispatch", "server.keyspace",
           "server.client", "server.commands.strings", "server.commands.keys"]


def _files(env: dict) -> dict:
    code = ("import importlib, json, sys\n"
            f"mods = {MODULES!r}\n"
            "print(json.dumps({m: importlib.import_module(m).__file__ for m in mods}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO, env=env)
    return json.loads(out.stdout)


def test_pure_python_runs_the_sources():
    env = dict(os.environ, FORKVPY_PURE="1", PYTHONPATH=REPO)
    assert all(path.endswith(".py") for path in _files(env).values())


@pytest.mark.skipif(not os.environ.get("FORKVPY_EXPECT_COMPILED"), reason="the compiled run only")
def test_compiled_run_uses_compiled_modules():
    env = {k: v for k, v in os.environ.items() if k != "FORKVPY_PURE"}
    env["PYTHONPATH"] = REPO
    files = _files(env)
    assert not any(path.endswith(".py") for path in files.values()), files


def test_this_run_is_what_it_says():
    import server.dispatch

    if _loader.pure_python():
        assert not _loader.compiled(server.dispatch)
    elif os.environ.get("FORKVPY_EXPECT_COMPILED"):
        assert _loader.compiled(server.dispatch)


def test_a_stale_compiled_module_gives_way_to_its_source(tmp_path):
    """A .py edited after its compiled twin was built runs as the source (never stale code)."""
    pkg = tmp_path / "server"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    so = os.path.join(REPO, "server", next((f for f in os.listdir(os.path.join(REPO, "server"))
                                            if f.startswith("dispatch.") and f.endswith(".so")), "x"))
    if not os.path.exists(so):
        pytest.skip("server.dispatch is not compiled here")
    suffix = so.split("dispatch", 1)[1]
    os.symlink(so, pkg / f"probe{suffix}")
    (pkg / "probe.py").write_text("WHO = 'source'\n")
    os.utime(pkg / "probe.py", (os.path.getmtime(so) + 10,) * 2)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from protocol import _loader; "
            "_loader.install(); import server.probe as m; print(m.WHO)")
    env = {k: v for k, v in os.environ.items() if k != "FORKVPY_PURE"}
    env["PYTHONPATH"] = REPO
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         cwd=str(tmp_path), env=env)
    assert out.stdout.strip() == "source", out.stderr


def test_an_installed_copy_keeps_its_compiled_modules(tmp_path):
    """Outside a source checkout (no setup.py beside the packages, as in site-packages) file
    times mean nothing: a .py that looks newer does not displace its compiled twin."""
    shutil.copytree(os.path.join(REPO, "protocol"), tmp_path / "protocol")
    pkg = tmp_path / "server"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    so = next((os.path.join(REPO, "server", f) for f in os.listdir(os.path.join(REPO, "server"))
               if f.startswith("dispatch.") and f.endswith(".so")), None)
    if so is None:
        pytest.skip("server.dispatch is not compiled here")
    shutil.copy(so, pkg / ("probe" + so.split("dispatch", 1)[1]))
    (pkg / "probe.py").write_text("WHO = 'source'\n")
    os.utime(pkg / "probe.py", (os.path.getmtime(pkg / ("probe" + so.split("dispatch", 1)[1])) + 10,) * 2)
    code = "from protocol import _loader; import server.probe as m; print(m.WHO)"
    env = {k: v for k, v in os.environ.items() if k != "FORKVPY_PURE"}
    env["PYTHONPATH"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(tmp_path), env=env)
    # The compiled file was chosen: it is dispatch's, so it cannot initialise a module "probe".
    assert out.stdout.strip() != "source"
    assert "PyInit_probe" in out.stderr


def test_kernel_chooses_a_built_c_module_unless_pure(monkeypatch):
    """protocol._loader.kernel: None under FORKVPY_PURE or for a module that is not built, else
    the module or its attribute; an attribute missing from a built module is not swallowed."""
    try:
        from server import _fastpath
    except ImportError:
        pytest.skip("server/_fastpath.c is not built")
    monkeypatch.setenv("FORKVPY_PURE", "1")
    assert _loader.kernel("server._fastpath") is None
    assert _loader.kernel("server._fastpath", "stream_decode") is None
    monkeypatch.setenv("FORKVPY_PURE", "0")
    assert _loader.kernel("server._fastpath") is _fastpath
    assert _loader.kernel("server._fastpath", "stream_decode") is _fastpath.stream_decode
    assert _loader.kernel("server._no_such_kernel") is None
    assert _loader.kernel("server._no_such_kernel", "anything") is None
    with pytest.raises(AttributeError):
        _loader.kernel("server._fastpath", "no_such_function")
