"""A network path on 127.0.0.1 that can lose a server's goodbye, standing in for the route between a frozen
Lambda environment and RDS.

`GoodbyeLosingPath(unix_socket)` forwards TCP connections on 127.0.0.1 to a PostgreSQL Unix socket.
`lose_goodbyes()` ends every server side (the server sees its client leave) while each client keeps an
open socket on which nothing ever arrives, as when a FIN was sent while the client could not receive it;
the client's next bytes are answered with a reset, as a server answers a connection it no longer knows.
Connections made afterwards are forwarded normally.

`connect_delay_s` holds every new connection that long before anything is forwarded: the client's TCP
connect succeeds at once and its first answer comes late, as a cold environment's TLS handshake and
authentication with RDS do.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class _Pair:
    client: socket.socket
    server: socket.socket
    lost: threading.Event = field(default_factory=threading.Event)


class GoodbyeLosingPath:
    def __init__(self, unix_socket: str, *, connect_delay_s: float = 0.0) -> None:
        self.unix_socket = unix_socket
        self.connect_delay_s = connect_delay_s
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._closed = False

    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> GoodbyeLosingPath:
        threading.Thread(target=self._accept, name="goodbye-losing-path", daemon=True).start()
        return self

    def stop(self) -> None:
        self._closed = True
        self._listener.close()
        with self._lock:
            for pair in self._pairs:
                for sock in (pair.client, pair.server):
                    sock.close()

    def lose_goodbyes(self) -> None:
        with self._lock:
            for pair in self._pairs:
                pair.lost.set()
                # Wakes the server→client pump with EOF; the server sees its client gone.
                pair.server.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        if self.connect_delay_s:
            time.sleep(self.connect_delay_s)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(self.unix_socket)
        pair = _Pair(client, server)
        with self._lock:
            self._pairs.append(pair)
        threading.Thread(target=self._client_to_server, args=(pair,), daemon=True).start()
        threading.Thread(target=self._server_to_client, args=(pair,), daemon=True).start()

    def _client_to_server(self, pair: _Pair) -> None:
        while True:
            try:
                data = pair.client.recv(65536)
            except OSError:
                return
            if not data:
                pair.server.close()
                return
            if pair.lost.is_set():
                # A reset, not a FIN: SO_LINGER with a zero timeout.
                pair.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                pair.client.close()
                return
            try:
                pair.server.sendall(data)
            except OSError:
                return

    def _server_to_client(self, pair: _Pair) -> None:
        while True:
            try:
                data = pair.server.recv(65536)
            except OSError:
                return
            if pair.lost.is_set():
                return  # whatever the server said last (its goodbye) never reaches the client
            if not data:
                pair.client.close()
                return
            try:
                pair.client.sendall(data)
            except OSError:
                return
