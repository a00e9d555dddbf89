"""Passing bytes between two sockets, for the relays and proxies tests put in front of real servers."""

from __future__ import annotations

import socket
import threading


def pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy a → b until either side closes; then close both."""
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass


def join(a: socket.socket, b: socket.socket) -> None:
    """Relay both directions in daemon threads."""
    for x, y in ((a, b), (b, a)):
        threading.Thread(target=pipe, args=(x, y), daemon=True).start()
