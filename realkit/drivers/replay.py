"""Shared replay loop of simval's engine drivers (protocol: ../PROTOCOL.md).

A driver is a thin engine adapter plus ``replay.main``. This module owns what every
driver does the same way: reading the trace, pacing submissions at their arrival
times, converting engine timestamps to seconds since the replay's t0, recording how
late each submission was, warming up, repetitions, and writing the JSON-lines
protocol on stdout. It imports nothing beyond the standard library, so it runs (and
is tested) on machines without torch.

It does not judge results: summaries and percentiles are recomputed by simval's Go
side from the request lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import traceback
from typing import NoReturn

import warmup as warmup_mod

PROTOCOL_VERSION = 1
# Quiet before each repetition and before writing its lines (settle()): more than two
# idle polls of a tensor-parallel hfcb engine (101 ms each).
SETTLE_S = 0.25

# The fields of validation.EngineSettings, in order, with their "unknown" values.
SETTINGS_DEFAULTS = {
    "scheduler": "",
    "token_budget": 0,
    "max_seqs": 0,
    "block_size": 0,
    "num_blocks": 0,
    "tp": 0,
    "pp": 0,
    "attention_backend": "",
    "dtype": "",
    "cuda_graphs": False,
    "model": "",
}


class TraceError(ValueError):
    """The trace file is malformed; the message names the file and line."""


class EngineError(RuntimeError):
    """The engine failed or returned something the replay cannot use."""


class Terminated(BaseException):
    """Raised in the main thread when the driver receives SIGTERM."""


@dataclasses.dataclass(frozen=True)
class TraceRequest:
    id: str
    arrival_s: float
    prompt_tokens: int
    output_tokens: int


@dataclasses.dataclass
class Finished:
    """A request the engine finished. Times are absolute, on the adapter's clock."""

    id: str
    token_times: list
    first_scheduled: float | None = None
    finish_reason: str = "length"
    restarts: int = 0
    error: str | None = None


class EngineAdapter:
    """The interface every engine adapter implements.

    ``clock`` is the engine's own clock; all times an adapter returns are on it.
    ``submit`` is called when a request is due, with ``due`` = t0 + arrival_s on that
    clock (engines that accept a nominal arrival time use it). ``poll`` waits at most
    ``timeout_s`` and returns the requests that finished since the last call.
    """

    name = "abstract"
    clock_name = "perf_counter"
    timestamps = "engine"

    def clock(self) -> float:
        return time.perf_counter()

    def pause(self, seconds: float) -> None:
        """Waits on the engine's clock (settle()); a fake clock advances instead."""
        time.sleep(seconds)

    def plan(self, requests: list) -> None:
        """Sees the whole trace before load (e.g. to size the engine); optional."""

    def load(self) -> None:
        raise NotImplementedError

    def engine_warmup(self) -> str:
        """Engine-specific warm-up beyond the shape waves; returns its policy text."""
        return ""

    def enable_steps(self) -> None:
        raise EngineError(f"engine {self.name} cannot report steps")

    def follow(self) -> None:
        """On a rank other than 0 of a multi-process launch (torchrun), after load: runs
        this rank's share of the engine until rank 0 stops it. Rank 0 replays and speaks
        the protocol; followers are silent on stdout."""
        raise EngineError(f"engine {self.name} cannot run as a follower rank of a multi-process launch")

    def prepare(self, requests: list) -> None:
        """Before a replay's t0: builds what submitting requests (in order) will need, so
        that building it is not charged to their latency; optional."""

    def submit(self, req: TraceRequest, due: float) -> None:
        raise NotImplementedError

    def poll(self, timeout_s: float) -> list:
        raise NotImplementedError

    def drain_steps(self) -> list:
        """Steps recorded since the last call: dicts with absolute ``start``."""
        return []

    def after_warmup(self) -> None:
        """Called after each warm-up, before the timed replay (e.g. metric resets)."""

    def resolved_settings(self) -> dict:
        """validation.EngineSettings fields the engine resolved; missing ones are unknown."""
        return {}

    def describe(self) -> dict:
        """engine_version, versions, gpu, engine_config, model (all optional)."""
        return {}

    def stop(self) -> None:
        pass


def read_trace(path: str) -> list:
    """Reads a JSON-lines trace strictly; returns requests sorted by arrival (stable)."""
    want = {"id", "arrival_s", "prompt_tokens", "output_tokens"}
    out, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise TraceError(f"{where}: not JSON: {e}") from None
            if not isinstance(obj, dict):
                raise TraceError(f"{where}: want an object, got {type(obj).__name__}")
            if set(obj) != want:
                extra, missing = sorted(set(obj) - want), sorted(want - set(obj))
                raise TraceError(f"{where}: unknown fields {extra}, missing fields {missing}")
            rid, arr = obj["id"], obj["arrival_s"]
            if not isinstance(rid, str) or not rid:
                raise TraceError(f"{where}: id: want a non-empty string")
            if rid in seen:
                raise TraceError(f"{where}: id {rid!r} repeats")
            if isinstance(arr, bool) or not isinstance(arr, (int, float)) or not math.isfinite(arr) or arr < 0:
                raise TraceError(f"{where}: arrival_s: want a finite number >= 0, got {arr!r}")
            for key in ("prompt_tokens", "output_tokens"):
                v = obj[key]
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    raise TraceError(f"{where}: {key}: want an integer >= 1, got {v!r}")
            seen.add(rid)
            out.append(TraceRequest(rid, float(arr), obj["prompt_tokens"], obj["output_tokens"]))
    if not out:
        raise TraceError(f"{path}: no requests")
    return sorted(out, key=lambda r: r.arrival_s)


class Emitter:
    """Writes protocol lines; one JSON object per line, flushed at once."""

    def __init__(self, stream):
        self.stream = stream

    def emit(self, kind: str, **fields) -> None:
        obj = {"type": kind}
        obj.update(fields)
        self.stream.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
        self.stream.flush()


def make_settings(known: dict) -> tuple:
    """Completes an EngineSettings dict; returns (settings, names of unknown fields)."""
    extra = sorted(set(known) - set(SETTINGS_DEFAULTS))
    if extra:
        raise EngineError(f"resolved settings have unknown fields {extra}")
    settings, unknown = {}, []
    for key, default in SETTINGS_DEFAULTS.items():
        value = known.get(key)
        if value is None:
            settings[key] = default
            unknown.append(key)
        else:
            settings[key] = value
    return settings, unknown


def check_tokens(req: TraceRequest, fin: Finished) -> str | None:
    """Why a finished request's token times cannot be used, or None."""
    times = fin.token_times
    if len(times) != req.output_tokens:
        return f"request {req.id}: engine reported {len(times)} token times for {req.output_tokens} output tokens"
    for k in range(1, len(times)):
        if times[k] < times[k - 1]:
            return f"request {req.id}: token time {k} ({times[k]!r}) is before token time {k - 1} ({times[k - 1]!r})"
    if not all(math.isfinite(t) for t in times):
        return f"request {req.id}: a token time is not finite"
    return None


class Replayer:
    """Replays a trace once against an adapter, emitting one request line per finish.

    The loop itself never sleeps: it waits inside ``adapter.poll`` for at most the time
    until the next arrival (and at most ``poll_max_s``), so a fake adapter with its own
    clock makes the loop fully deterministic.
    """

    def __init__(self, adapter: EngineAdapter, emitter: Emitter, *, poll_max_s=0.05, time_limit_s=None):
        self.adapter = adapter
        self.emitter = emitter
        self.poll_max_s = poll_max_s
        self.time_limit_s = time_limit_s
        self.progress = ""  # where the replay stands, for error messages

    def replay(self, requests: list, rep: int) -> dict:
        ad, clk = self.adapter, self.adapter.clock
        n = len(requests)
        ad.prepare(requests)
        t0, t0_unix = clk(), time.time()
        i, finished, outstanding = 0, 0, {}
        self.progress = f"repetition {rep}: 0 of {n} requests finished"
        while i < n or outstanding:
            now = clk() - t0
            while i < n and requests[i].arrival_s <= now:
                req = requests[i]
                submitted = clk() - t0
                ad.submit(req, t0 + req.arrival_s)
                outstanding[req.id] = (req, submitted)
                i += 1
                now = clk() - t0
            if self.time_limit_s is not None and now > self.time_limit_s:
                raise EngineError(
                    f"time limit {self.time_limit_s} s reached with {len(outstanding)} requests unfinished "
                    f"and {n - i} not yet submitted"
                )
            wait = requests[i].arrival_s - now if i < n else self.poll_max_s
            for fin in ad.poll(min(max(wait, 0.0), self.poll_max_s)):
                entry = outstanding.pop(fin.id, None)
                if entry is None:
                    raise EngineError(f"engine finished request {fin.id!r}, which is not outstanding")
                req, submitted = entry
                if fin.error:
                    raise EngineError(f"request {req.id} failed in the engine: {fin.error}")
                problem = check_tokens(req, fin)
                if problem:
                    self.emitter.emit("error", message=problem, fatal=False, rep=rep, request_id=req.id)
                    continue
                self.emitter.emit("request", **request_fields(req, fin, rep, t0, submitted))
                finished += 1
                self.progress = f"repetition {rep}: {finished} of {n} requests finished"
        return {"rep": rep, "requests": n, "finished": finished, "t0_unix": t0_unix, "t0_clock": t0,
                "duration_s": clk() - t0}


def request_fields(req: TraceRequest, fin: Finished, rep: int, t0: float, submitted: float) -> dict:
    """The request line's fields, with engine times converted to seconds since t0."""
    times = [t - t0 for t in fin.token_times]
    fields = {
        "rep": rep,
        "id": req.id,
        "arrival_s": req.arrival_s,
        "submitted_s": submitted,
        "prompt_tokens": req.prompt_tokens,
        "output_tokens": req.output_tokens,
        "first_token_s": times[0],
        "token_times_s": times,
        "completion_s": times[-1],
        "finish_reason": fin.finish_reason,
        "restarts": fin.restarts,
    }
    if fin.first_scheduled is not None:
        fields["first_scheduled_s"] = fin.first_scheduled - t0
    return fields


def gpu_info() -> dict:
    """GPU name, driver and CUDA version, read from torch (if imported) and nvidia-smi."""
    info = {"name": "unknown", "driver": "unknown", "cuda": "unknown", "count": 0}
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            info["cuda"] = str(torch.version.cuda)
            if torch.cuda.is_available():
                info["count"] = torch.cuda.device_count()
                info["name"] = torch.cuda.get_device_name(0)
        except Exception as e:  # provenance is best-effort; the field stays "unknown"
            print(f"gpu_info: torch: {e}", file=sys.stderr)
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout.split("\n")[0].strip()
        if out:
            info["driver"] = out
    except (OSError, subprocess.SubprocessError) as e:
        print(f"gpu_info: nvidia-smi: {e}", file=sys.stderr)
    return info


def meta_fields(adapter: EngineAdapter, args, policy: str) -> dict:
    desc = adapter.describe()
    settings, unknown = make_settings(adapter.resolved_settings())
    versions = {"python": platform.python_version()}
    versions.update(desc.get("versions", {}))
    return {
        "protocol": PROTOCOL_VERSION,
        "engine": adapter.name,
        "engine_version": desc.get("engine_version", "unknown"),
        "driver": os.path.basename(sys.argv[0] or "unknown"),
        "versions": versions,
        "gpu": desc.get("gpu") or gpu_info(),
        "settings": settings,
        "settings_unknown": unknown,
        "engine_config": desc.get("engine_config", {}),
        "clock": adapter.clock_name,
        "timestamps": adapter.timestamps,
        "warmup_policy": policy,
        "model": desc.get("model", {}),
        "host": socket.gethostname(),
        "host_cpu": host_cpu(),
        "seed": args.seed,
        "repetitions": args.repetitions,
        "settle_s": args.settle,
    }


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trace", required=True, help="JSON-lines trace: id, arrival_s, prompt_tokens, output_tokens")
    p.add_argument("--repetitions", type=int, default=1, help="replay the trace this many times")
    p.add_argument("--rewarm", action="store_true", help="warm up again before every repetition")
    p.add_argument("--warmup", choices=warmup_mod.POLICIES, default="replay", help="warm-up policy (warmup.py)")
    p.add_argument("--warmup-max-batch", type=int, default=256, help="cap on the concurrency wave")
    p.add_argument("--steps", action="store_true", help="emit per-step lines")
    p.add_argument("--settle", type=float, default=SETTLE_S,
                   help="seconds of quiet before each repetition and before writing its lines (settle())")
    p.add_argument("--time-limit", type=float, default=None, help="seconds one repetition may take")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and prompt token ids")


def run_driver(adapter: EngineAdapter, args, emitter: Emitter) -> int:
    """Load, warm up, replay every repetition and emit the protocol; returns the exit code."""
    stage = "reading the trace"
    replayer = None
    try:
        requests = read_trace(args.trace)
        if args.repetitions < 1:
            raise TraceError(f"--repetitions: want >= 1, got {args.repetitions}")
        adapter.plan(requests)
        stage = "loading the engine"
        start = time.perf_counter()
        adapter.load()
        if args.steps:
            adapter.enable_steps()
        load_s = time.perf_counter() - start
        stage = "warming up"
        start = time.perf_counter()
        policy = warmup_mod.warm(adapter, requests, args)
        warmup_s = time.perf_counter() - start
        emitter.emit("ready", protocol=PROTOCOL_VERSION, load_s=load_s, warmup_s=warmup_s)
        stage = "describing the engine"
        emitter.emit("meta", **meta_fields(adapter, args, policy))
        replayer = Replayer(adapter, emitter, time_limit_s=args.time_limit)
        warm_steps = adapter.drain_steps()  # the warm-up's steps go out with repetition 0
        for rep in range(args.repetitions):
            if rep > 0 and args.rewarm:
                stage = f"re-warming before repetition {rep}"
                warmup_mod.warm(adapter, requests, args)
                warm_steps = adapter.drain_steps()
            settle(adapter, args.settle)
            stage = f"replaying repetition {rep}"
            summary = replayer.replay(requests, rep)
            settle(adapter, args.settle)
            emit_steps(adapter, emitter, rep, summary["t0_clock"], warm_steps)
            warm_steps = []
            emitter.emit("summary", **summary)
        stage = "stopping the engine"
        adapter.stop()
        return 0
    except BaseException as e:  # noqa: BLE001 - every failure becomes an error line
        where = replayer.progress if replayer is not None and stage.startswith("replaying") else ""
        msg = f"{stage}{' (' + where + ')' if where else ''}: {type(e).__name__}: {e}"
        traceback.print_exc(file=sys.stderr)
        try:
            emitter.emit("error", message=msg, fatal=True)
        except OSError:
            pass
        if not isinstance(e, (Terminated, KeyboardInterrupt)):
            try:
                adapter.stop()
            except Exception as stop_err:  # noqa: BLE001
                print(f"stop after failure: {stop_err}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 1


def settle(adapter: EngineAdapter, seconds: float) -> None:
    """Lets the engine settle before a repetition's t0 and before the lines of the one
    that just ended are written. Why: this thread's JSON writing holds the GIL that the
    engine's generation thread needs, and an idle engine's first iterations decide when
    it admits the next request (a tensor-parallel hfcb engine meets its followers at a
    100 ms idle poll, counted from its last step, and consumes a wake-up left set by a
    request that arrived while it was busy: simkit/HFCB.md). Without a pause the first
    request of a repetition raced the writing of the previous one's step lines and was
    admitted one poll early or late by chance."""
    if seconds > 0:
        adapter.pause(seconds)


def run_follower(adapter: EngineAdapter, args) -> int:
    """A rank other than 0: loads the engine and follows rank 0 until it stops. It writes
    no protocol line; its failures go to stderr and its exit code to the launcher, which
    then stops rank 0 as well."""
    try:
        adapter.plan(read_trace(args.trace))
        adapter.load()
        adapter.follow()
        adapter.stop()
        return 0
    except BaseException as e:  # noqa: BLE001 - reported on stderr
        traceback.print_exc(file=sys.stderr)
        print(f"follower rank: {type(e).__name__}: {e}", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 1


def launch_rank(environ) -> int:
    """This process's rank in a torchrun launch (RANK), 0 without one. A malformed RANK
    counts as 0 here; the adapter's own launch check names it."""
    try:
        return int(environ.get("RANK", "0"))
    except ValueError:
        return 0


STEP_FIELDS = ("items", "q_tokens", "kv_read", "q_pad", "kv_pad", "seqk_pad", "captured", "graphs", "comm_s", "phases")


def emit_steps(adapter: EngineAdapter, emitter: Emitter, rep: int, t0: float, warm_steps=()) -> None:
    """The repetition's step lines: first the steps of the warm-up that preceded it
    (``warmup`` true, negative start times), then its own; each list indexed from 0,
    all times relative to the repetition's t0."""
    for warm, steps in ((True, warm_steps), (False, adapter.drain_steps())):
        for k, step in enumerate(steps):
            fields = {"rep": rep, "index": k, "start_s": step["start"] - t0, "duration_s": step["duration_s"]}
            if warm:
                fields["warmup"] = True
            for key in STEP_FIELDS:
                if step.get(key) is not None:
                    fields[key] = step[key]
            emitter.emit("step", **fields)


def host_cpu() -> str:
    """The host CPU model and logical CPU count (Linux /proc/cpuinfo; platform otherwise)."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model or platform.processor() or 'unknown'} x{os.cpu_count() or 0}"


def protocol_stream():
    """Moves the real stdout aside for protocol lines and points fd 1 at stderr, so
    that stray prints of the engine (Python or C) cannot corrupt the protocol."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(fd, "w", encoding="utf-8", buffering=1)


def _on_sigterm(signum, frame):
    raise Terminated(f"terminated by signal {signum}")


def main(make_adapter, parser: argparse.ArgumentParser, argv=None) -> NoReturn:
    """Entry point of a driver: parses args, builds the adapter, runs the protocol,
    and exits the process with run_driver's code."""
    add_common_args(parser)
    args = parser.parse_args(argv)
    stream = protocol_stream()
    follower = launch_rank(os.environ) > 0
    if follower:
        stream.close()  # only rank 0 speaks the protocol; this rank's fd 1 is stderr
        stream = open(os.devnull, "w", encoding="utf-8")
    emitter = Emitter(stream)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        adapter = make_adapter(args)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        emitter.emit("error", message=f"building the adapter: {type(e).__name__}: {e}", fatal=True)
        sys.stderr.flush()
        os._exit(1)
    code = run_follower(adapter, args) if follower else run_driver(adapter, args, emitter)
    # Leave at once: every line is flushed, and engine threads (the transformers
    # generation loop is not a daemon thread; Ray) must not keep the process alive.
    sys.stderr.flush()
    os._exit(code)
