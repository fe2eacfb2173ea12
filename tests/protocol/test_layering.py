"""The dependency direction: protocol and persistence never import the server (nor asyncio)."""

import subprocess
import sys


def test_protocol_and_persistence_stand_alone():
    code = ("import sys, protocol, protocol.parser, protocol.reply, persistence.rdb, persistence.snapshot\n"
            "bad = [m for m in sys.modules if m == 'server' or m.startswith('server.') or m == 'asyncio']\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
