"""Compose-style durations, sizes and CPU figures in the units the Docker Engine API stores."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60_000_000_000, "h": 3_600_000_000_000}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)$", re.IGNORECASE)
_SIZE_MULT = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def duration_ns(value: object, field: str = "duration") -> int:
    """`30s`, `1m30s`, `500ms` or a number of seconds → nanoseconds (Go's time.ParseDuration)."""
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected a duration like 30s, got {value!r}")
    if isinstance(value, int | float):
        return int(value * 1_000_000_000)
    text = str(value).strip()
    if text in ("0", ""):
        return 0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _NS[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ValueError(f"{field}: {value!r} is not a duration (examples: 30s, 1m30s, 500ms)")
    return int(total)


def size_bytes(value: object, field: str = "size") -> int:
    """`512M`, `1g`, `64mb` or a byte count → bytes (binary units, like docker's RAMInBytes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(str(value).strip())
    if not m:
        raise ValueError(f"{field}: {value!r} is not a size (examples: 512M, 1G)")
    return int(float(m.group(1)) * _SIZE_MULT[m.group(2).lower()])


def nano_cpus(value: object, field: str = "cpus") -> int:
    try:
        return int(round(float(value) * 1_000_000_000))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{field}: {value!r} is not a number of CPUs (example: 0.5)") from None


def human_duration(ns: object) -> object:
    """Nanoseconds → the shortest Go-style duration (`10s`, `1m30s`, `500ms`, `0s`); non-numbers pass through."""
    if not isinstance(ns, int | float) or isinstance(ns, bool):
        return ns
    ns = int(ns)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns % 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("us", 1_000), ("ns", 1)):
            if ns % size == 0:
                return f"{sign}{ns // size}{unit}"
    out, rest = "", ns // 1_000_000_000
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return sign + out


def human_size(n: object) -> object:
    """Bytes → the largest binary unit that divides them exactly (`512M`, `1G`, `1536K`, `100`)."""
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return n
    for unit, size in (("P", 1024**5), ("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return n


def human_cpus(nano: object) -> object:
    """NanoCPUs → CPUs (500000000 → 0.5)."""
    if not isinstance(nano, int) or isinstance(nano, bool):
        return nano
    cpus = nano / 1_000_000_000
    return int(cpus) if cpus == int(cpus) else cpus
