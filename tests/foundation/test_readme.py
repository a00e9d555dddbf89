"""README's configuration table lists every setting, and its two commands exist."""

from __future__ import annotations

from pathlib import Path

from controller.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [f"JARVIS_{n.upper()}" for n in Settings.model_fields if f"`JARVIS_{n.upper()}`" not in readme]
    assert not missing, f"add to README (jarvis settings --markdown): {missing}"


def test_the_two_commands_exist_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "bash deploy/run-embedded.sh" in readme and "bash tests/run.sh" in readme
    assert (ROOT / "deploy/run-embedded.sh").is_file() and (ROOT / "tests/run.sh").is_file()
    assert "bash tests/run.sh" in (ROOT / ".ci/run").read_text()
