"""Diagnostics for hfcb's idle loop (``hfcb_driver.py --poll-log DIR``): every rank's
generation-loop timeline, to see when an idle tensor-parallel engine admits a request.

transformers' generation loop, with no batch, waits ``_has_new_requests.wait(timeout=0.1)``
and clears the event; ``add_request`` sets it (on the driver rank only), and
``prepare_next_batch`` takes new requests from the input queue and meets the other ranks.
The log records, per rank and on the driver's clock (``time.perf_counter``, the system's
monotonic clock, so the ranks' logs share it):

- ``set``: the event was set (rank 0: a request was added);
- ``wait``: a wait on the event, with its start, end and whether the event was set;
- ``clear``: the event was cleared;
- ``prepare``: a ``prepare_next_batch`` call, its start, end and whether it scheduled.

At stop each rank writes ``DIR/rank<N>.jsonl``, one event per line; rank 0 also writes
``DIR/source.txt``, the engine's source of the functions the log wraps (the facts
simkit/HFCB.md cites, from the installed version). A few perf_counter calls per loop
iteration: the idle loop runs ten times a second, the busy loop once per step.
"""

from __future__ import annotations

import inspect
import json
import os
import threading
import time

SOURCES = (
    ("continuous_api", "ContinuousBatchingManager", ("add_request", "_generation_loop_body")),
    ("continuous_api", "ContinuousBatchProcessor", ("prepare_next_batch", "_update_tp_group_state")),
    ("distributed", "DistributedHelper", ("tp_all_reduce_state", "tp_broadcast_object_from_rank_0")),
)


class PollLog:
    """One rank's idle-loop events; install() before the manager starts."""

    def __init__(self, folder: str, rank: int):
        self.folder, self.rank = folder, rank
        self.events = []
        self.lock = threading.Lock()

    def add(self, kind: str, start: float, end: float | None = None, value=None) -> None:
        ev = {"kind": kind, "t": start}
        if end is not None:
            ev["end"] = end
        if value is not None:
            ev["value"] = value
        with self.lock:
            self.events.append(ev)

    def install(self, mgr, processor_cls) -> None:
        """Replaces the manager's wake-up event with a logging one and wraps the batch
        processor's prepare_next_batch (on top of whatever --steps wrapped)."""
        old = getattr(mgr, "_has_new_requests", None)
        if not isinstance(old, threading.Event):
            raise RuntimeError("--poll-log: the manager has no _has_new_requests event")
        log = self

        class LoggedEvent(threading.Event):
            def set(self):
                log.add("set", time.perf_counter())
                super().set()

            def clear(self):
                log.add("clear", time.perf_counter())
                super().clear()

            def wait(self, timeout=None):
                start = time.perf_counter()
                got = super().wait(timeout)
                log.add("wait", start, time.perf_counter(), bool(got))
                return got

        ev = LoggedEvent()
        if old.is_set():
            threading.Event.set(ev)
        mgr._has_new_requests = ev
        prepare = processor_cls.prepare_next_batch

        def logged_prepare(bp, *a, **kw):
            start = time.perf_counter()
            got = prepare(bp, *a, **kw)
            log.add("prepare", start, time.perf_counter(), bool(got))
            return got

        processor_cls.prepare_next_batch = logged_prepare

    def write(self) -> None:
        os.makedirs(self.folder, exist_ok=True)
        with self.lock:
            events = list(self.events)
        with open(os.path.join(self.folder, f"rank{self.rank}.jsonl"), "w") as f:
            for ev in events:
                f.write(json.dumps(ev) + "\n")
        if self.rank == 0:
            with open(os.path.join(self.folder, "source.txt"), "w") as f:
                f.write(engine_source())


def engine_source() -> str:
    """The installed engine's source of the functions the log concerns."""
    import importlib

    out = []
    for module, cls_name, names in SOURCES:
        try:
            mod = importlib.import_module(f"transformers.generation.continuous_batching.{module}")
            cls = getattr(mod, cls_name)
        except (ImportError, AttributeError) as e:
            out.append(f"# {module}.{cls_name}: {e}\n")
            continue
        for name in names:
            fn = getattr(cls, name, None)
            if fn is None:
                out.append(f"# {cls_name}.{name}: absent\n")
                continue
            fn = inspect.unwrap(fn)
            try:
                out.append(f"# {inspect.getsourcefile(fn)}\n{inspect.getsource(fn)}\n")
            except (OSError, TypeError) as e:
                out.append(f"# {cls_name}.{name}: {e}\n")
    return "".join(out)
