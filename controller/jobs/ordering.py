"""The order a job's steps run in, and the outputs one step hands to a later one. Pure.

A step (a dict of the job's `steps_spec`) may say when it runs:
  wave        an integer, 0 by default: steps run wave by wave, the lowest first, and within a wave in
              the order they are listed ("create the server" 0, "harden it" 1, "publish its DNS record" 2);
  depends_on  names of steps that must succeed first: when one did not, this step is skipped, naming it.
A step's `vars` may hold, anywhere, a reference to an earlier step's output, `output_ref(step, key)`:
the worker puts in its place the value that step published (Ansible's `set_stats`), and a reference is
a dependency too. The job records every step's outputs under `output_json["outputs"][<step name>]`.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any

OUTPUT_REF = "$output"


class StepOrderError(ValueError):
    """The steps' order cannot be honoured (an unknown or ambiguous name, a later wave, a cycle)."""


class MissingOutput(LookupError):
    """A step refers to an output its producer did not publish."""


def output_ref(step: str, key: str) -> dict[str, Any]:
    """In a step's vars: "the value `key` that step `step` published"."""
    return {OUTPUT_REF: {"step": step, "key": key}}


def _is_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {OUTPUT_REF} and isinstance(value[OUTPUT_REF], Mapping)


def references(value: Any) -> list[tuple[str, str]]:
    """Every (step, key) an output reference in `value` names, in order."""
    if _is_ref(value):
        return [(str(value[OUTPUT_REF].get("step", "")), str(value[OUTPUT_REF].get("key", "")))]
    if isinstance(value, Mapping):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list | tuple):
        return [r for v in value for r in references(v)]
    return []


def dependencies(step: Mapping[str, Any]) -> list[str]:
    """The steps this one needs: its `depends_on`, then the producers of the outputs it refers to."""
    deps = [str(d) for d in step.get("depends_on") or ()]
    deps += [s for s, _ in references(step.get("vars") or {})]
    return list(dict.fromkeys(deps))


def run_order(steps: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions of `steps` in the order they run: by wave, then as listed, each after what it needs."""
    where: dict[str, list[int]] = {}
    for pos, s in enumerate(steps):
        where.setdefault(str(s.get("name", "")), []).append(pos)
    waves = []
    for s in steps:
        try:
            waves.append(int(s.get("wave") or 0))
        except (TypeError, ValueError):
            raise StepOrderError(f"step {s.get('name')!r}: wave must be an integer, got {s.get('wave')!r}") from None
    needs: list[set[int]] = []
    for pos, s in enumerate(steps):
        mine: set[int] = set()
        for dep in dependencies(s):
            found = where.get(dep, [])
            if not found:
                raise StepOrderError(f"step {s.get('name')!r} depends on {dep!r}, which is not a step of this job")
            if len(found) > 1:
                raise StepOrderError(f"step {s.get('name')!r} depends on {dep!r}, a name several steps have")
            if found[0] == pos:
                raise StepOrderError(f"step {dep!r} depends on itself")
            if waves[found[0]] > waves[pos]:
                raise StepOrderError(f"step {s.get('name')!r} (wave {waves[pos]}) depends on {dep!r}, "
                                     f"which runs in a later wave ({waves[found[0]]})")
            mine.add(found[0])
        needs.append(mine)
    waiting = {pos: set(n) for pos, n in enumerate(needs)}
    ready = [(waves[p], p) for p, n in waiting.items() if not n]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, pos = heapq.heappop(ready)
        order.append(pos)
        for other, n in waiting.items():
            if pos in n:
                n.discard(pos)
                if not n:
                    heapq.heappush(ready, (waves[other], other))
    if len(order) != len(steps):
        stuck = sorted(str(steps[p].get("name")) for p in waiting if p not in order)
        raise StepOrderError("the steps depend on each other in a cycle: " + ", ".join(stuck))
    return order


def resolve(value: Any, outputs: Mapping[str, Mapping[str, Any]]) -> Any:
    """`value` with every output reference replaced by the output it names."""
    if _is_ref(value):
        step, key = references(value)[0]
        if key not in (outputs.get(step) or {}):
            raise MissingOutput(f"step {step!r} published no output {key!r} "
                                f"(it published: {', '.join(sorted(outputs.get(step) or {})) or 'nothing'})")
        return outputs[step][key]
    if isinstance(value, Mapping):
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, outputs) for v in value]
    return value
