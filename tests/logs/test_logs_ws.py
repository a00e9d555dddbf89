"""WS /ws/logs following a real service that keeps printing: the last lines then live ones, a
reconnect from the cursor without gaps or repeats, a slow watcher told to resume, bad input."""

from __future__ import annotations

from datetime import datetime

from .conftest import docker_service_logs


def _collect(ws, at_least: int) -> tuple[list[tuple], str, dict | None]:
    """(lines as (time, task name, stream, text), the last cursor, a final resume/error frame)."""
    got, cursor = [], None
    while len(got) < at_least:
        msg = ws.receive_json()
        if msg["type"] != "lines":
            return got, cursor, msg
        got += [(datetime.fromisoformat(x["time"]), x["labels"]["name"], x["stream"], x["text"]) for x in msg["lines"]]
        cursor = msg["cursor"]
    return got, cursor, None


def _url(conn: str, name: str, **extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"source": "service", "selector": f"{conn}/{name}", **extra}.items())
    return f"/ws/logs?{query}"


def _contiguous(got: list[tuple], name: str) -> None:
    """`got` is a run of docker's own lines for the service: nothing missing in between, nothing twice."""
    theirs = sorted((t, task, stream, text) for t, task, _node, stream, text in docker_service_logs(name))
    start = theirs.index(got[0])
    assert got == theirs[start:start + len(got)]


def test_follow_then_reconnect_from_the_cursor_misses_and_repeats_nothing(client, viewer, ticker, docker_conn):
    with client.websocket_connect(_url(docker_conn, ticker, limit=3), headers=viewer.headers) as ws:
        first = ws.receive_json()
        assert first["type"] == "lines" and len(first["lines"]) == 3       # the last lines, then live ones
        head = [(datetime.fromisoformat(x["time"]), x["labels"]["name"], x["stream"], x["text"]) for x in first["lines"]]
        live, cursor, end = _collect(ws, 12)
        assert end is None
    with client.websocket_connect(_url(docker_conn, ticker, after=cursor), headers=viewer.headers) as ws:
        rest, _, end = _collect(ws, 12)
        assert end is None
    got = head + live + rest
    assert len({line[1] for line in got}) == 2                              # both tasks' lines, merged
    _contiguous(got, ticker)


def test_a_filter_follows_only_matching_lines(client, viewer, ticker, docker_conn):
    with client.websocket_connect(_url(docker_conn, ticker, q=r"tick%20\d*5%20", regex="true", limit=1),
                                  headers=viewer.headers) as ws:
        got, _, _ = _collect(ws, 4)
    assert all(" " in text and text.split()[1].endswith("5") for *_, text in got)


def test_a_slow_watcher_is_told_to_resume_and_loses_nothing(client, viewer, ticker, docker_conn, monkeypatch):
    import api.ws_logs

    monkeypatch.setattr(api.ws_logs, "BUFFER", 2)      # fewer than one read brings: every read overflows
    got, after, resumes = [], None, 0
    with client.websocket_connect(_url(docker_conn, ticker, limit=1), headers=viewer.headers) as ws:
        head, after, end = _collect(ws, 10_000)
        got += head
    while len(got) < 15:
        assert end is not None and end["type"] == "resume", end
        after, resumes = end["after"], resumes + 1
        with client.websocket_connect(_url(docker_conn, ticker, after=after), headers=viewer.headers) as ws:
            more, _, end = _collect(ws, 10_000)
        assert len(more) <= 2
        got += more
    assert resumes >= 5
    _contiguous(got, ticker)


def test_bad_input_and_no_session_close_with_the_reason(client, viewer, docker_conn):
    with client.websocket_connect(_url(docker_conn, "x", q="(", regex="true"), headers=viewer.headers) as ws:
        msg = ws.receive_json()
    assert msg["type"] == "error" and "not a valid regular expression" in msg["detail"] and msg["errors"][0]["field"] == "q"
    with client.websocket_connect(_url("no-such-conn", "x"), headers=viewer.headers) as ws:
        msg = ws.receive_json()
    assert msg["type"] == "error" and "no-such-conn" in msg["detail"]
    with client.websocket_connect(_url(docker_conn, "x", after="yesterday"), headers=viewer.headers) as ws:
        msg = ws.receive_json()
    assert msg["type"] == "error" and msg["errors"][0]["field"] == "after"
    with client.websocket_connect(_url(docker_conn, "x")) as ws:
        msg = ws.receive_json()
    assert msg == {"type": "error", "detail": "not authenticated"}
