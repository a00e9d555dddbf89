"""Passing bytes between two sockets, for the relays and proxies tests put in front of real servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


def pipe(a: socket.socket, b: socket.socket, seen: Callable[[bytes], None] | None = None) -> None:
    """Copy a → b until either side closes; then close both. `seen` is shown every chunk."""
    try:
        while data := a.recv(65536):
            if seen is not None:
                seen(data)
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.close()
            except OSError:
                pass


def join(a: socket.socket, b: socket.socket, seen: Callable[[bytes], None] | None = None) -> None:
    """Relay both directions in daemon threads; `seen` gets what a sends to b."""
    threading.Thread(target=pipe, args=(a, b, seen), daemon=True).start()
    threading.Thread(target=pipe, args=(b, a), daemon=True).start()
