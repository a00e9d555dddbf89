"""Watch a working-tree source on disk and call back when its files change.

Used in embedded mode, where `examples/` is edited in place: a saved file leads to a new
snapshot and a reconcile without waiting for the poll timer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)


def _counts(root: Path, changed: str) -> bool:
    """Whether a changed path is part of the source: the same rule WorktreeSource hashes by
    (hidden files and directories such as .git/, and editor backups, are not)."""
    try:
        rel = Path(changed).resolve().relative_to(root).as_posix()
    except ValueError:
        return False
    return not any(part.startswith(".") for part in rel.split("/")) and not rel.endswith("~")


class DirectoryWatcher:
    """Calls `on_change()` (from a daemon thread) after files under `path` are created, modified
    or deleted, at most once per `debounce_ms` burst of changes.

    Any non-hidden file counts, not only those matching `globs`: manifests refer to compose and
    config files, and an edit to one of those changes the desired state too. `globs` is kept so
    the caller can snapshot the same set it watches."""

    def __init__(self, path: Path, globs: list[str], on_change: Callable[[], None], debounce_ms: int = 300,
                 force_polling: bool | None = None) -> None:
        self.path = Path(path)
        self.globs = list(globs)
        self.on_change = on_change
        self.debounce_ms = debounce_ms
        self.force_polling = force_polling
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DirectoryWatcher:
        if not self.path.is_dir():
            raise FileNotFoundError(f"cannot watch {self.path}: not a directory")
        if self._thread and self._thread.is_alive():
            return self
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=f"watch:{self.path}", daemon=True)
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Whether the watcher is installed (changes made before this may be missed)."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread; returns within a step of the watch loop (about 50 ms)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> DirectoryWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        root = self.path.resolve()
        try:
            # yield_on_timeout: the first (empty) yield tells us the OS watch is in place
            for changes in watchfiles.watch(
                root,
                watch_filter=lambda _change, changed: _counts(root, changed),
                debounce=self.debounce_ms,
                stop_event=self._stop,
                rust_timeout=200,
                yield_on_timeout=True,
                raise_interrupt=False,
                force_polling=self.force_polling,
            ):
                self._ready.set()
                if not changes:
                    continue
                try:
                    self.on_change()
                except Exception:
                    # one failing reconcile must not end the watch
                    log.exception("change handler for %s failed", self.path)
        except Exception:
            log.exception("watching %s stopped", self.path)
        finally:
            self._ready.set()
