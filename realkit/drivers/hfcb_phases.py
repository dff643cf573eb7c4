"""Where a step's wall time goes, per step, for the hfcb driver's ``--step-phases``.

A capture step of a fresh engine costs 0.4-2.0 s more than its replay, and a second
large first-use cost lands at a later capture in multi-request processes. This module
splits each step into the phases the engine's own code has, so a step trace says which
one holds the cost instead of leaving it to guesswork:

- ``prepare_ms``: ContinuousBatchProcessor.prepare_next_batch (host: scheduling, padding,
  building the batch tensors);
- ``compute_ms``: ModelRunner.compute_batch (host time; a replay is asynchronous);
  for a capture it is split further into ``eager_ms`` (the eager forward that computes
  the step's outputs, synchronised), ``graph_ms`` (``torch.cuda.graph`` entry:
  synchronise, ``gc.collect()``, ``empty_cache()``, then recording the forward, then
  ``capture_end`` and graph instantiation); ``eager_cpu_ms`` is the CPU time the
  engine thread spent in that eager forward, ``eager_proc_cpu_ms`` the process's (all
  threads), ``eager_steal_ms`` the time the hypervisor ran other guests on this machine's
  CPUs meanwhile (/proc/stat steal, summed over CPUs): whether a slow first-use
  compilation was a slower CPU (CPU time grows with the wall time), a busy process
  (process CPU well above the thread's) or a stolen one (steal grows);
- ``update_ms``: update_batch (waits for the device, appends tokens);
- ``gc_ms`` / ``gc_collections``: time Python's garbage collector ran during the step
  (``gc.callbacks``), whoever triggered it; ``gc_objects``: objects it examined in its
  largest collection (``len(gc.get_objects())`` is too slow to call per step);
- ``cuda_mallocs`` / ``cuda_frees``: device allocations and frees the caching allocator
  made during the step (``torch.cuda.memory_stats`` num_device_alloc / num_device_free).

Only the engine's methods are wrapped; nothing of its behaviour changes. The wrapping
costs two perf_counter calls per method and one memory_stats() per step.
"""

from __future__ import annotations

import gc
import os
import time


def steal_ms() -> float | None:
    """Steal time summed over the machine's CPUs since boot, in ms (/proc/stat's cpu line,
    eighth field, in clock ticks); None where there is no /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return float(fields[8]) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class StepPhases:
    """Accumulates the phases of the step in progress; ``take()`` returns and resets them."""

    def __init__(self, torch_module):
        self.torch = torch_module
        self.current: dict = {}
        self._gc_start = None
        self._mem_before = None

    # -- garbage collector --------------------------------------------------------------

    def _gc_callback(self, phase, info):
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        if self._gc_start is None:
            return
        took = (time.perf_counter() - self._gc_start) * 1000.0
        self._gc_start = None
        self.add("gc_ms", took)
        self.add("gc_collections", 1)
        if info.get("generation") == 2:
            self.add("gc_full", 1)
            self.current["gc_full_max_ms"] = max(self.current.get("gc_full_max_ms", 0.0), took)

    def install_gc_probe(self):
        gc.callbacks.append(self._gc_callback)

    # -- accounting -----------------------------------------------------------------------

    def add(self, name: str, value: float):
        self.current[name] = self.current.get(name, 0.0) + value

    def _device_counts(self):
        try:
            stats = self.torch.cuda.memory_stats()
        except Exception:  # noqa: BLE001 - no CUDA (fake runs): counts are left out
            return None
        return stats.get("num_device_alloc", 0), stats.get("num_device_free", 0)

    def begin_step(self):
        self.current = {}
        self._mem_before = self._device_counts()

    def take(self) -> dict:
        after = self._device_counts()
        if after is not None and self._mem_before is not None:
            self.current["cuda_mallocs"] = after[0] - self._mem_before[0]
            self.current["cuda_frees"] = after[1] - self._mem_before[1]
        out = {k: round(v, 3) if isinstance(v, float) else v for k, v in self.current.items()}
        self.current, self._mem_before = {}, None
        return out

    def timed(self, name: str, fn):
        """fn wrapped to add its host wall time to phase ``name``."""
        phases = self

        def wrapper(*a, **kw):
            start = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phases.add(name, (time.perf_counter() - start) * 1000.0)

        return wrapper

    def wrap_capture(self, capture_fn):
        """ModelRunner._capture_graph(forward_fn, stream, *args) wrapped so that its first
        (eager) call of forward_fn is timed with a device synchronisation after it, and the
        rest of the capture is ``graph_ms``."""
        phases, torch = self, self.torch

        def wrapper(runner, forward_fn, *rest, **kw):
            calls = {"n": 0}

            def counted(*a, **k):
                calls["n"] += 1
                if calls["n"] != 1:
                    return forward_fn(*a, **k)
                steal, proc, thread = steal_ms(), time.process_time(), time.thread_time()
                start = time.perf_counter()
                out = forward_fn(*a, **k)
                torch.cuda.synchronize()
                phases.add("eager_ms", (time.perf_counter() - start) * 1000.0)
                phases.add("eager_cpu_ms", (time.thread_time() - thread) * 1000.0)
                phases.add("eager_proc_cpu_ms", (time.process_time() - proc) * 1000.0)
                steal_after = steal_ms()
                if steal is not None and steal_after is not None:
                    phases.add("eager_steal_ms", steal_after - steal)
                return out

            start = time.perf_counter()
            result = capture_fn(runner, counted, *rest, **kw)
            total = (time.perf_counter() - start) * 1000.0
            phases.add("graph_ms", total - phases.current.get("eager_ms", 0.0))
            return result

        return wrapper
