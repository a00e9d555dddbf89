"""run_playbook against real ansible-runner: outcomes, events, failures, timeouts, cancels, secrets."""

from __future__ import annotations

import base64
import json
import socket
import uuid
from pathlib import Path
from urllib.parse import quote

from controller.jobs.runner import RunSpec, run_playbook

from .conftest import PLAYBOOKS


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running(cmdline: str) -> list[int]:
    """Live pids whose command line is exactly `cmdline` (a unique sleep started by a playbook).

    A killed process whose parent has not reaped it yet (a zombie) is not running.
    """
    want = cmdline.encode().replace(b" ", b"\0") + b"\0"
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                zombie = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
                if not zombie and (entry / "cmdline").read_bytes() == want:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def test_passing_playbook_streams_ordered_events_and_reports_results(private_dir: Path):
    events: list[dict] = []
    result = run_playbook(
        RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "ok.yml", extravars={"greeting": "ops"},
                ident="step-1"),
        on_event=events.append)

    assert result.status == "success", result.stdout
    assert result.rc == 0
    assert result.failures == []
    counters = [e["counter"] for e in events]
    assert counters == sorted(counters) and len(set(counters)) == len(counters)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"
    assert {"counter", "uuid", "event", "host", "task", "stdout", "created", "event_data"} <= set(events[0])
    ok = [e for e in events if e["event"] == "runner_on_ok" and e["task"] == "Say hello"]
    assert ok and ok[0]["host"] == "localhost" and "hello from jarvis" in ok[0]["stdout"]
    # the local python is the venv's, so project packages import in modules
    assert result.stats["ok"] == {"localhost": 4}
    assert result.set_stats == {"answer": 42, "who": "ops"}
    assert [p.name for p in result.artifacts] == ["result.json"]
    assert json.loads(result.artifacts[0].read_text()) == {"ok": True}
    assert "PLAY RECAP" in result.stdout
    assert private_dir.stat().st_mode & 0o777 == 0o700


def test_failing_task_names_host_and_task(private_dir: Path):
    result = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "fail.yml"))

    assert result.status == "error"
    assert result.rc != 0
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert failure["host"] == "localhost"
    assert failure["task"] == "Break on purpose"
    assert failure["message"]
    assert result.stats["failures"] == {"localhost": 1}


def test_unreachable_host_is_named(private_dir: Path):
    inventory = {"all": {"hosts": {"db-7": {
        "ansible_host": "127.0.0.1", "ansible_port": _closed_port(), "ansible_connection": "ssh",
        "ansible_user": "root"}}}}
    result = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "ping.yml",
                                  inventory=inventory, host_key_checking=False))

    assert result.status == "error"
    assert [f["host"] for f in result.failures] == ["db-7"]
    assert "unreachable" in result.failures[0]["message"]
    assert result.failures[0]["task"] == "Ping"
    assert result.stats["dark"] == {"db-7": 1}


def test_hanging_playbook_ends_as_timeout(private_dir: Path):
    sleep_for = f"{uuid.uuid4().int % 1000 + 100}.{uuid.uuid4().int % 10000:04d}"
    result = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "sleep.yml", timeout=3,
                                  extravars={"sleep_for": sleep_for}))

    assert result.status == "timeout"
    assert result.failures == []
    assert _running(f"sleep {sleep_for}") == [], "the hanging command must not outlive the job"


def test_cancel_mid_run_ends_as_canceled(private_dir: Path):
    started = []

    def on_event(event: dict) -> None:
        if event["event"] == "runner_on_start" and event["task"] == "Hang":
            started.append(event)

    sleep_for = f"{uuid.uuid4().int % 1000 + 100}.{uuid.uuid4().int % 10000:04d}"
    result = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "sleep.yml",
                                  extravars={"sleep_for": sleep_for}),
                          on_event=on_event, should_cancel=lambda: bool(started))

    assert started, "the hanging task should have started before the cancel"
    assert result.status == "canceled"
    assert _running(f"sleep {sleep_for}") == [], "the canceled command must not outlive the job"


def test_secret_is_masked_everywhere_and_env_files_are_gone(private_dir: Path):
    token = "s3cr3t-Tok/en+value=="
    events: list[dict] = []
    result = run_playbook(
        RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "secret.yml",
                envvars={"API_TOKEN": token}, passwords={r"^Vault password:\s*$": "vault-pass-123"},
                secrets=[token]),
        on_event=events.append)

    assert result.status == "error"           # the last task fails with the secret in its message
    forms = [token, quote(token, safe=""), base64.b64encode(token.encode()).decode()]
    dumped = json.dumps(events) + result.stdout + json.dumps(result.failures) + json.dumps(result.set_stats)
    for form in forms:
        assert form not in dumped
    assert "********" in result.stdout
    assert result.set_stats == {"token": "********"}
    assert result.failures[0]["message"] == "bad token ********"
    assert [p.name for p in result.artifacts] == ["leak.txt"]
    assert result.artifacts[0].read_text() == "token=********\n"

    for rel in ("env/envvars", "env/passwords", "env/ssh_key"):
        assert not (private_dir / rel).exists()
    for path in _files_under(private_dir):
        data = path.read_bytes()
        for secret in (token, "vault-pass-123"):
            assert secret.encode() not in data, f"{secret!r} left on disk in {path}"


def test_steps_share_a_private_dir_and_report_only_their_own_artifacts(private_dir: Path):
    first = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "ok.yml", ident="one"))
    second = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "fail.yml", ident="two"))

    assert first.status == "success" and [p.name for p in first.artifacts] == ["result.json"]
    assert second.status == "error" and second.artifacts == []


def test_missing_playbook_is_an_error_not_an_exception(private_dir: Path):
    result = run_playbook(RunSpec(private_dir=private_dir, playbook=PLAYBOOKS / "does-not-exist.yml"))

    assert result.status == "error"
    assert "does-not-exist.yml" in (result.error + result.stdout)
