"""Write back-pressure: a client that pipelines big replies without reading them makes the server
stop reading from it, so the server's memory stays bounded; nothing is lost once it reads."""

import socket
import time

import redis

from tests.servers import ServerProcess, receive, rss


def test_unread_replies_pause_reading():
    value = b"v" * 65536
    batch = b"*2\r\n$4\r\nECHO\r\n$65536\r\n" + value + b"\r\n"  # the reply is as big
    with ServerProcess("forkv") as server:
        r = redis.Redis(port=server.port)
        base = rss(server.proc.pid)
        sent = 0
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.setblocking(False)
            deadline = time.monotonic() + 10
            while sent < 4000 and time.monotonic() < deadline:  # up to 256 MiB of replies
                try:
                    s.sendall(batch)
                    sent += 1
                except BlockingIOError:
                    break  # the server stopped reading: its socket buffer is full
            peak = rss(server.proc.pid)
            assert r.ping() is True  # other clients are served meanwhile
            assert sent < 4000, "the server kept reading while its replies piled up"
            assert peak - base < 64 * 1024 * 1024
            s.setblocking(True)
            expected = sent * (len(value) + 10)  # $65536\r\n ... \r\n
            assert receive(s, expected) == expected
        r.close()
