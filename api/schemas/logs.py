"""Bodies of /api/logs and the frames of WS /ws/logs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Output

Source = Literal["service", "container", "job"]
Direction = Literal["backward", "forward"]
CURSOR_PATTERN = r"^\d{1,17}-\d{1,9}$"


class LogLine(Output):
    time: datetime | None = None
    stream: Literal["stdout", "stderr"]
    text: str
    level: Literal["error", "warn", "info", "debug"] | None = Field(
        None, description="The level the line's text names, if any.")
    labels: dict[str, str] = Field(default_factory=dict, description=(
        "service: task, slot, node (hostname) and name (docker's <service>.<slot>.<task id>); "
        "job: counter, type, host, task; container: none."))


class LogsOut(Output):
    source: Source
    selector: str
    lines: list[LogLine] = Field(description="In time order, oldest first, whatever the direction.")
    truncated: bool = Field(description="The range holds more matching lines than were answered (or than were read).")
    scanned: int = Field(description="Lines read from the source before the filter.")
    cursor: str = Field(description="Where the last line answered stands in the source: WS /ws/logs?after= "
                                    "goes on from it.")
