"""redis-cli's interactive hints come from COMMAND DOCS: typing a command in a real redis-cli (in a
tmux pane) shows the same hint against forkv as against Debian's redis-server."""

import shutil
import subprocess
import uuid

import pytest

from tests.servers import wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("redis-cli") is None,
                                reason="needs tmux and redis-cli (.ci/run installs both)")

TYPED = ["SET k v ", "GETEX k ", "EXPIRE k 10 ", "SCAN 0 ", "BITCOUNT k ", "LCS a b ", "COPY a b ",
         "CONFIG SET ", "RESTORE k 0 x ", "SHUTDOWN ", "BITFIELD k ", "OBJECT ENCODING ", "BITFIELD_RO k ",
         "MSET ", "DEL ", "HELLO ", "CLIENT LIST ", "COMMAND LIST ", "BITPOS k 1 "]


def hints(port: int) -> list:
    session = f"hints-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "250", "-y", "10",
                    f"redis-cli -p {port}"], check=True)
    try:
        def pane():
            return subprocess.run(["tmux", "capture-pane", "-t", session, "-p"], capture_output=True,
                                  text=True).stdout.splitlines()[0]

        prompt = wait_for(lambda: pane().strip().endswith(">") and pane().strip(), 10, what="prompt")
        out = []
        for text in TYPED:
            subprocess.run(["tmux", "send-keys", "-t", session, "C-u", text], check=True)
            # the hint is drawn right after the typed text: wait until the line has grown past it
            # and reads the same twice in a row (tmux may catch a redraw half done)
            seen = []

            def settled():
                line = pane().rstrip()
                typed = line[len(prompt):].startswith(" " + text)
                done = typed and len(line) > len(prompt) + len(text) + 1 and seen and seen[-1] == line
                seen.append(line)
                return line if done else None

            line = wait_for(settled, 5, interval=0.05, what=f"hint for {text!r}")
            out.append(line[len(prompt):])
        return out
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session])


def test_hints_match_redis(forkv_server, redis_server):
    assert hints(forkv_server.port) == hints(redis_server.port)
