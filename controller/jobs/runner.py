"""Run one playbook with ansible-runner: events streamed in order and masked, secrets kept off disk.

The worker calls `run_playbook` once per job step. The step's secrets reach Ansible only
through the process environment (`envvars`), pexpect answers (`passwords`) and an ssh-agent
fed through a fifo (`ssh_key`): ansible-runner is told not to write its env files, the
`command` artifact (which records the environment) is removed as soon as the process starts,
stdout is not written to disk (the masked tail comes back in the result) and events are
not stored as files. Every string that leaves here passes through the step's `Masker`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner

from controller.jobs.masking import Masker

log = logging.getLogger(__name__)

RES_LIMIT = 8 * 1024            # bytes of an event's `res` kept before it is summarised
STDOUT_EVENT_LIMIT = 64 * 1024  # characters of one event's stdout kept
TAIL_LINES = 400
ARTIFACT_MASK_LIMIT = 16 * 1024 * 1024   # larger artifacts are not rewritten (they are data, not logs)
SECRET_ENV_FILES = ("env/ssh_key", "env/passwords", "env/envvars")
RUN_MARKER = "JARVIS_RUN_MARKER"    # in every process of a run, so leftovers can be found
STATUS = {"successful": "success", "failed": "error", "canceled": "canceled", "timeout": "timeout"}


@dataclass
class RunSpec:
    private_dir: Path                 # the job's own private data dir (created 0700 if missing)
    playbook: Path                    # absolute; its folder is linked into private_dir/project/<ident>
    extravars: dict = field(default_factory=dict)          # never secrets
    inventory: str | dict | None = None   # None: localhost, local connection, this venv's python
    envvars: dict[str, str] = field(default_factory=dict)  # secret env for modules (masked)
    passwords: dict[str, str] = field(default_factory=dict)  # prompt regex -> answer (masked)
    ssh_key: str | None = None        # private key text, loaded into an ssh-agent for the run
    secrets: list[str] = field(default_factory=list)       # further values to mask
    timeout: int | None = None        # seconds; the run ends as `timeout` past it
    ident: str = "main"               # step name; artifacts/<ident> under private_dir
    host_key_checking: bool = True    # tests against throwaway sshd servers turn it off
    gather_facts: bool = False        # ANSIBLE_GATHERING implicit instead of explicit
    check: bool = False               # --check --diff: a drift check, changes reported, none made
    verbosity: int = 0


@dataclass
class RunResult:
    status: str                       # success | error | canceled | timeout
    rc: int | None
    stats: dict = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)   # [{host, task, message}]
    set_stats: dict = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)  # files written to jarvis_artifacts_dir
    stdout: str = ""                  # masked tail
    error: str = ""                   # why the run could not start, if it could not


def _safe_ident(ident: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", ident or "main")[:100] or "main"


def _localhost_inventory() -> dict:
    return {"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}


def _ansible_env(spec: RunSpec, control_dir: str) -> dict[str, str]:
    """Quiet, fast Ansible; this venv first on PATH so `ansible-playbook` and modules use it.

    SSH control sockets live in a directory of this run's own: a shared one would let a run
    reuse a master connection another run authenticated with another connection's key.
    """
    venv_bin = str(Path(sys.executable).parent)
    return {
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir,
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "/usr/bin:/bin")]),
        "ANSIBLE_NOCOWS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "True" if spec.host_key_checking else "False",
        "ANSIBLE_GATHERING": "implicit" if spec.gather_facts else "explicit",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_SYSTEM_WARNINGS": "0",
        "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "0",
    }


def _link_project(private_dir: Path, playbook: Path, ident: str) -> str:
    """Link the playbook's folder entries into project/<ident>; return the playbook's relative path.

    Linking entries (not the folder) keeps files the playbook writes next to itself out of
    the source folder, and costs a handful of symlinks per run instead of a copy.
    """
    target = private_dir / "project" / ident
    if target.is_symlink() or target.is_file():
        target.unlink()
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        if old.is_symlink():
            old.unlink()
    for entry in playbook.parent.iterdir():
        link = target / entry.name
        if not link.exists() and not link.is_symlink():
            link.symlink_to(entry)
    return f"{ident}/{playbook.name}"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _drain_fifo(path: Path, expected: int) -> None:
    """Unblock ansible-runner's fifo writer thread when the run ended before ssh-add read the key."""
    try:
        if not stat.S_ISFIFO(path.lstat().st_mode):
            path.unlink(missing_ok=True)
            return
    except FileNotFoundError:
        return
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        got, deadline = 0, time.monotonic() + 2
        while got < expected and time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                chunk = b""
            got += len(chunk)
            if not chunk:
                time.sleep(0.01)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)


def _remove_secret_files(private_dir: Path, artifact_dir: Path, ssh_key: str | None) -> None:
    for rel in SECRET_ENV_FILES:
        (private_dir / rel).unlink(missing_ok=True)
    (artifact_dir / "command").unlink(missing_ok=True)      # holds the full environment
    (artifact_dir / "env.list").unlink(missing_ok=True)
    _drain_fifo(artifact_dir / "ssh_key_data", len((ssh_key or "").encode()))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _kill_leftovers(marker: str, wait_s: float = 5.0) -> list[int]:
    """SIGKILL processes a killed run left behind, and wait until they are gone.

    ansible-runner kills ansible-playbook's process group on cancel and timeout, but the
    commands its workers start live in groups of their own and get reparented; they all
    inherit the run's marker variable, so /proc finds them.
    """
    needle = f"{RUN_MARKER}={marker}".encode()
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    deadline = time.monotonic() + wait_s
    while any(_alive(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.02)
    return killed


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[str(path)] = (st.st_mtime_ns, st.st_size)
    return out


def _new_artifacts(folder: Path, before: dict[str, tuple[int, int]], masker: Masker) -> list[Path]:
    changed = []
    for path, sig in sorted(_snapshot(folder).items()):
        if before.get(path) == sig:
            continue
        changed.append(Path(path))
        if masker and sig[1] <= ARTIFACT_MASK_LIMIT:
            data = Path(path).read_bytes()
            masked = masker.bytes_(data)
            if masked != data:
                Path(path).write_bytes(masked)
    return changed


def _trim_res(res: Any) -> Any:
    """Keep an event's result small: a big `res` (facts, file contents) becomes a summary."""
    if not isinstance(res, dict):
        return res
    try:
        size = len(json.dumps(res, default=str))
    except (TypeError, ValueError):
        size = RES_LIMIT + 1
    if size <= RES_LIMIT:
        return res
    summary: dict[str, Any] = {"_truncated": True, "_size": size}
    for key in ("msg", "rc", "changed", "failed", "skipped", "unreachable", "cmd"):
        if key in res and len(str(res[key])) < 2048:
            summary[key] = res[key]
    for key in ("stdout", "stderr"):
        if isinstance(res.get(key), str):
            summary[key] = res[key][-2048:]
    return summary


def _failure(event: str, data: dict, masker: Masker) -> dict:
    res = data.get("res") if isinstance(data.get("res"), dict) else {}
    host = data.get("host") or data.get("remote_addr") or ""
    message = str(res.get("msg") or "").strip()
    stderr = str(res.get("stderr") or "").strip()
    if stderr and stderr not in message:
        message = f"{message}\n{stderr[-2000:]}".strip()
    if event == "runner_on_unreachable":
        message = f"host {host} unreachable: {message or 'no reason given'}"
    return masker.mask({"host": host, "task": data.get("task") or "", "message": message or "failed"})


class _Collector:
    """ansible-runner's callbacks for one run: mask, trim, forward in order, remember results."""

    def __init__(self, masker: Masker, on_event: Callable[[dict], None],
                 should_cancel: Callable[[], bool], artifact_dir: Path) -> None:
        self.masker = masker
        self.on_event = on_event
        self.should_cancel = should_cancel
        self.artifact_dir = artifact_dir
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.failures: list[dict] = []
        self.stats: dict = {}
        self.set_stats: dict = {}

    def event(self, raw: dict) -> bool:
        data = dict(raw.get("event_data") or {})
        kind = raw.get("event", "")
        if "res" in data:
            data["res"] = _trim_res(data["res"])
        stdout = (raw.get("stdout") or "").replace("\r\n", "\n")
        if len(stdout) > STDOUT_EVENT_LIMIT:
            stdout = stdout[:STDOUT_EVENT_LIMIT] + "\n[output truncated]"
        event = self.masker.mask({
            "counter": raw.get("counter"), "uuid": raw.get("uuid"), "event": kind,
            "host": data.get("host") or "", "task": data.get("task") or "",
            "stdout": stdout, "created": raw.get("created"), "event_data": data,
        })
        if event["stdout"]:
            self.tail.extend(event["stdout"].splitlines())
        if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            self.failures.append(_failure(kind, data, self.masker))
        elif kind == "playbook_on_stats":
            ed = event["event_data"]
            self.stats = {k: ed.get(k, {}) for k in
                          ("ok", "changed", "dark", "failures", "ignored", "rescued", "skipped", "processed")}
            self.set_stats = ed.get("artifact_data") or {}
        try:
            self.on_event(event)
        except Exception:   # a broken consumer must not kill the playbook run mid-way
            log.exception("job event consumer failed")
        return False        # events are stored by the caller, not as files in the artifact dir

    def status(self, data: dict, runner_config=None) -> None:
        if data.get("status") == "running":
            # the `command` artifact records the environment, secrets included
            (self.artifact_dir / "command").unlink(missing_ok=True)

    def cancel(self) -> bool:
        try:
            return bool(self.should_cancel())
        except Exception:
            log.exception("cancel check failed; the run continues")
            return False


def run_playbook(spec: RunSpec, on_event: Callable[[dict], None] = lambda e: None,
                 should_cancel: Callable[[], bool] = lambda: False) -> RunResult:
    private_dir = Path(spec.private_dir).resolve()
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(private_dir, 0o700)
    ident = _safe_ident(spec.ident)
    artifact_dir = private_dir / "artifacts" / ident
    masker = Masker([*spec.secrets, *spec.envvars.values(), *spec.passwords.values(),
                     *([spec.ssh_key] if spec.ssh_key else [])])
    collector = _Collector(masker, on_event, should_cancel, artifact_dir)

    _remove_secret_files(private_dir, artifact_dir, None)    # stale files from a crashed run
    marker = uuid.uuid4().hex
    artifacts_out = private_dir / "artifacts_out"
    artifacts_out.mkdir(exist_ok=True)
    before = _snapshot(artifacts_out)
    extravars = {**spec.extravars, "jarvis_artifacts_dir": str(artifacts_out)}
    _write_private(private_dir / "env" / "extravars", json.dumps(extravars, default=str))
    settings: dict[str, Any] = {"suppress_output_file": True, "pexpect_timeout": 0.25}
    if spec.timeout:
        settings["job_timeout"] = int(spec.timeout)
    # a file, not the `settings` argument: ansible-runner drops that argument when env/settings is missing
    _write_private(private_dir / "env" / "settings", json.dumps(settings))

    # short, so `<dir>/<hash>` fits a unix socket path however deep private_dir is
    control_dir = tempfile.mkdtemp(prefix="jarvis-cp-")
    try:
        playbook = _link_project(private_dir, Path(spec.playbook).resolve(), ident)
        runner = ansible_runner.run(
            private_data_dir=str(private_dir),
            playbook=playbook,
            ident=ident,
            inventory=spec.inventory if spec.inventory is not None else _localhost_inventory(),
            envvars={**_ansible_env(spec, control_dir), **spec.envvars, RUN_MARKER: marker},
            passwords=dict(spec.passwords) or None,
            ssh_key=spec.ssh_key or None,
            verbosity=spec.verbosity or None,
            cmdline="--check --diff" if spec.check else None,
            quiet=True,
            suppress_env_files=True,
            event_handler=collector.event,
            status_handler=collector.status,
            cancel_callback=collector.cancel,
        )
    except Exception as exc:
        log.exception("ansible-runner could not run %s", spec.playbook)
        message = masker.text(f"{type(exc).__name__}: {exc}")
        return RunResult(status="error", rc=None, stdout="\n".join(collector.tail), error=message,
                         failures=collector.failures)
    finally:
        _remove_secret_files(private_dir, artifact_dir, spec.ssh_key)
        # the run is over: whatever still carries its marker (SSH masters kept alive by
        # ControlPersist, commands orphaned by a cancel or timeout) goes with it
        if sys.platform.startswith("linux"):
            _kill_leftovers(marker)
        shutil.rmtree(control_dir, ignore_errors=True)

    return RunResult(
        status=STATUS.get(runner.status, "error"),
        rc=runner.rc,
        stats=collector.stats,
        failures=collector.failures,
        set_stats=collector.set_stats,
        artifacts=_new_artifacts(artifacts_out, before, masker),
        stdout="\n".join(collector.tail),
    )
