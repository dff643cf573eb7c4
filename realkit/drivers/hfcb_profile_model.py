"""Pure part of the hfcb profiler: engine constants, the profiling plan, interpolation,
the kernel model, step reconstruction from timing events, the CPU-table derivation and
the bundle writers. No torch, no GPU: unit-tested by test_profile_hfcb.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

# ---------------------------------------------------------------------------------------
# Engine constants (transformers 5.17, notes/hfcb-scheduler.md) and the model.

Q_PAD_INTERVAL = 64  # q_padding_interval_size default
KV_PAD_INTERVAL = 64 * 256  # kv_padding_interval_size default
H200_NUM_PAGES = 3823 * 256  # num_blocks × block_size resolved on the H200
ENGINE_NAME = "hfcb"
ATTENTION_BACKEND = "paged|sdpa"
DTYPE = "bf16"

MODEL = {
    "name": "Qwen/Qwen3-0.6B",
    "layers": 28,
    "hidden": 1024,
    "q_heads": 16,
    "kv_heads": 8,
    "head_dim": 128,
    "intermediate": 3072,
    "vocab": 151936,
    "tied_embeddings": True,
    "gated_mlp": True,
    "post_attn_norm": True,
    "lm_head": True,
    "dtype": DTYPE,
}

# Per-layer ops of mlp.csv and how often each runs per layer (two residual adds).
PER_LAYER_OPS = [
    ("input_layernorm", 1),
    ("attn_pre_proj", 1),
    ("attn_qk_norm", 1),
    ("attn_rope", 1),
    ("attn_post_proj", 1),
    ("post_attention_layernorm", 1),
    ("mlp_up_proj", 1),
    ("mlp_act", 1),
    ("mlp_down_proj", 1),
    ("add", 2),
]
# Per-step ops keyed by the step's padded tokens, and by the LM-head rows.
PER_STEP_TOKEN_OPS = ["emb", "final_norm"]
PER_STEP_ROW_OPS = ["lm_head", "sampler"]
MLP_OPS = [op for op, _ in PER_LAYER_OPS] + PER_STEP_TOKEN_OPS + PER_STEP_ROW_OPS
STATS = ["min", "max", "mean", "median", "std"]


class ProfileError(RuntimeError):
    """A profiling step failed; the message says which and why."""


class OutOfGrid(ProfileError):
    """A look-up outside a profiled table."""


def log(msg: str) -> None:
    print(f"[profile_hfcb +{time.perf_counter() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


_T0 = time.perf_counter()


# ---------------------------------------------------------------------------------------
# Plans (grids) — pure.

# Every query-token count the engine can run: it pads Q to a multiple of 64 up to 8192.
ENGINE_Q = [64 * k for k in range(1, 129)]


def make_plan(quick: bool) -> dict:
    """The grids and repeat counts. The full plan fits 5 minutes on an H200, quick 90 s.
    The full plan measures every padded Q the engine can run: attention and GEMM times
    step with the GPU's wave quantisation (e.g. Q 2112 costs 25% more than Q 2048), which
    interpolation between sparse points would miss. KVpad is always a multiple of 16384,
    so its grid points are exact too."""
    if quick:
        return {
            "quick": True,
            "tokens": [1, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384],
            "attn_q": [64, 256, 1024, 2048, 4096, 8192],
            "attn_kv": [16384, 32768, 65536],
            "replays": 3,
            "prefill_n": [16, 512, 2048, 8192],
            "prefill_reps": 2,
            "decode_b": [1, 8, 32],
            "decode_tokens": 24,
            "mixed_b": [8],
            "mixed_n": [512],
            "mixed_reps": 2,
            "longctx": [],
            "capture_prefill_n": [200, 3000],
            "capture_mixed_b": 4,
            "capture_mixed_n": [900],
            "fresh_prompts": [16],
            "fresh_runs": 1,
            "profile_b": [1],
        }
    return {
        "quick": False,
        "tokens": [1, 8, 32] + ENGINE_Q + [12288, 16384],
        "attn_q": list(ENGINE_Q),
        # Below 16384: caches smaller than one KV padding interval, whose KVpad is their
        # num_pages (num_blocks x 256), from 4 blocks up.
        "attn_kv": [1024, 4096, 8192, 16384, 32768, 49152, 65536],
        "replays": 3,
        "prefill_n": [16, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
        "prefill_reps": 3,
        "decode_b": [1, 2, 4, 8, 16, 32, 64, 128, 256],
        "decode_tokens": 40,
        "mixed_b": [4, 32],
        "mixed_n": [256, 1000, 2048],
        "mixed_reps": 3,
        "longctx": [(8, 2000), (32, 2000)],
        "capture_prefill_n": [96, 200, 700, 1500, 3000, 6000],
        "capture_mixed_b": 16,
        "capture_mixed_n": [150, 900, 2600, 5000],
        "fresh_prompts": [16, 1000, 4000],
        "fresh_runs": 2,
        "profile_b": [1, 32],
    }


def grid_text(plan: dict) -> str:
    def r(xs):
        if len(xs) > 20 and all(b - a == 64 for a, b in zip(xs, xs[1:])):
            return f"{xs[0]},{xs[1]},...,{xs[-1]} (every 64)"
        if len(xs) > 20:
            inner = [x for x in xs if x % 64 == 0 and 64 <= x <= 8192]
            rest = [x for x in xs if x not in inner]
            return ",".join(str(x) for x in rest if x < 64) + ",64,128,...,8192 (every 64)," + ",".join(
                str(x) for x in rest if x > 8192)
        return ",".join(str(x) for x in xs)

    return (f"mlp num_tokens {{{r(plan['tokens'])}}} (lm_head and sampler: rows); attention Q {{{r(plan['attn_q'])}}}"
            f" x KVpad {{{r(plan['attn_kv'])}}}; cpu decode batch {{{r(plan['decode_b'])}}}, prefill tokens "
            f"{{{r(plan['prefill_n'])}}}, mixed {{{r(plan['mixed_b'])}}} decoders x {{{r(plan['mixed_n'])}}} tokens")


# ---------------------------------------------------------------------------------------
# The engine's padded shapes and the kernel model — pure; simkit/hfcb_predictor.go
# implements the same formulas (tested against the same fixture).

def pad_to_interval(size: int, interval: int, cap: int) -> int:
    """The engine's padding: the next multiple of interval, interval itself for 0, capped."""
    padded = -(-size // interval) * interval if size > 0 else interval
    return min(padded, cap)


def padded_shape(q_tokens: int, kv_read: int, budget: int = 8192, max_reqs: int = 1024,
                 num_pages: int = H200_NUM_PAGES) -> tuple:
    """(Q, KVpad, LM-head rows) of a step with q_tokens query tokens whose requests had
    kv_read tokens cached before it."""
    q = pad_to_interval(q_tokens, Q_PAD_INTERVAL, budget)
    kv = pad_to_interval(kv_read, KV_PAD_INTERVAL, num_pages)
    return q, kv, min(q, max_reqs)


def _locate(axis: list, x: float, name: str, key: str) -> tuple:
    if not axis or not (axis[0] <= x <= axis[-1]):
        lo, hi = (axis[0], axis[-1]) if axis else (math.nan, math.nan)
        raise OutOfGrid(f"{name}: {key} {x:g} outside profiled range [{lo:g}, {hi:g}]")
    for i, a in enumerate(axis):
        if a == x:
            return i, 0.0
        if a > x:
            return i - 1, (x - axis[i - 1]) / (a - axis[i - 1])
    raise AssertionError("unreachable")


def interp1(xs: list, ys: list, x: float, name: str = "table", key: str = "x") -> float:
    """Piecewise-linear look-up; exact at grid points; OutOfGrid outside."""
    i, f = _locate(xs, x, name, key)
    return ys[i] if f == 0 else ys[i] + f * (ys[i + 1] - ys[i])


def interp2(xs: list, ys: list, grid: list, x: float, y: float, name: str = "table",
            keys: tuple = ("x", "y")) -> float:
    """Bilinear look-up on a complete product grid (grid[i][j] at xs[i], ys[j])."""
    i, fx = _locate(xs, x, name, keys[0])
    j, fy = _locate(ys, y, name, keys[1])

    def row(ii):
        return grid[ii][j] if fy == 0 else grid[ii][j] + fy * (grid[ii][j + 1] - grid[ii][j])

    return row(i) if fx == 0 else row(i) + fx * (row(i + 1) - row(i))


class KernelModel:
    """Kernel time of one step from the tables: per-layer ops at Q tokens × layers, packed
    attention at (Q, KVpad) × layers, embedding and final norm at Q, LM head and sampler at
    min(Q, max_reqs) rows. Tables hold ms."""

    def __init__(self, tokens: list, op_ms: dict, attn_q: list, attn_kv: list, attn_ms: list,
                 layers: int = MODEL["layers"]):
        missing = [op for op in MLP_OPS if op not in op_ms]
        if missing:
            raise ProfileError(f"kernel tables lack ops {missing}")
        self.tokens, self.op_ms = list(tokens), op_ms
        self.attn_q, self.attn_kv, self.attn_ms = list(attn_q), list(attn_kv), attn_ms
        self.layers = layers

    def parts(self, q_tokens: int, kv_read: int, budget: int = 8192, max_reqs: int = 1024,
              num_pages: int = H200_NUM_PAGES) -> dict:
        q, kv, rows = padded_shape(q_tokens, kv_read, budget, max_reqs, num_pages)

        def op(name, x):
            return interp1(self.tokens, self.op_ms[name], x, "mlp.csv " + name, "num_tokens")

        layer = sum(times * op(name, q) for name, times in PER_LAYER_OPS)
        attn = interp2(self.attn_q, self.attn_kv, self.attn_ms, q, kv, "attention.csv",
                       ("prefill_chunk_size", "kv_cache_size"))
        step = sum(op(name, q) for name in PER_STEP_TOKEN_OPS) + sum(op(name, rows) for name in PER_STEP_ROW_OPS)
        return {"q_pad": q, "kv_pad": kv, "rows": rows, "layer_ms": layer * self.layers,
                "attention_ms": attn * self.layers, "step_ops_ms": step,
                "kernel_ms": (layer + attn) * self.layers + step}

    def kernel_ms(self, q_tokens: int, kv_read: int, **kw) -> float:
        return self.parts(q_tokens, kv_read, **kw)["kernel_ms"]


def separable(points: dict, b: int, n: int, name: str = "cpu_overheads.csv") -> float:
    """simval's hfcb CPU scheme: v(b, n) = D(b) + X(n − b), with D the decode-only rows
    (num_tokens == batch_size) interpolated in b, and X(m) = v(1, 1 + m) − D(1) from the
    single-request rows (batch_size 1). points maps (batch_size, num_tokens) → value."""
    dec = sorted((bb, v) for (bb, nn), v in points.items() if nn == bb)
    if not dec or dec[0][0] != 1:
        raise ProfileError(f"{name}: needs decode rows (num_tokens == batch_size) starting at batch_size 1")
    d1 = dec[0][1]
    single = sorted((nn - 1, v - d1) for (bb, nn), v in points.items() if bb == 1)
    d = interp1([p[0] for p in dec], [p[1] for p in dec], b, name + " decode rows", "batch_size")
    x = interp1([p[0] for p in single], [p[1] for p in single], n - b, name + " batch_size-1 rows",
                "num_tokens - batch_size")
    return max(0.0, d + x)


def read_csv_rows(path: str) -> list:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_bundle(directory: str) -> dict:
    """Read a bundle this profiler wrote (or the simkit fixture) back: the kernel model,
    the cpu and launch points keyed (batch_size, num_tokens) and the per-cached-token
    slope. For offline checks; simkit's LoadHFCBPredictor is the real consumer."""
    mlp = read_csv_rows(os.path.join(directory, "mlp.csv"))
    tokens = [float(r["num_tokens"]) for r in mlp]
    op_ms = {op: [float(r[f"time_stats.{op}.median"]) for r in mlp] for op in MLP_OPS}
    cells = {}
    for r in read_csv_rows(os.path.join(directory, "attention.csv")):
        if float(r["prefill_chunk_size"]) > 0:
            cells[(float(r["prefill_chunk_size"]), float(r["kv_cache_size"]))] = float(r["time_stats.attn_prefill.median"])
    qs, kvs = sorted({q for q, _ in cells}), sorted({kv for _, kv in cells})
    try:
        grid = [[cells[(q, kv)] for kv in kvs] for q in qs]
    except KeyError as e:
        raise ProfileError(f"{directory}/attention.csv: prefill rows are not a complete grid, missing {e}") from e
    cpu, launch, slopes = {}, {}, set()
    for r in read_csv_rows(os.path.join(directory, "cpu_overheads.csv")):
        key = (int(float(r["batch_size"])), int(float(r["num_tokens"])))
        cpu[key] = float(r["cpu_total_median"])
        if r.get("launch_median", "") != "":
            launch[key] = float(r["launch_median"])
        slopes.add(float(r.get("cpu_per_kv_token_ms") or 0))
    if len(slopes) > 1:
        raise ProfileError(f"{directory}/cpu_overheads.csv: cpu_per_kv_token_ms differs between rows: {sorted(slopes)}")
    return {"kernel": KernelModel(tokens, op_ms, qs, kvs, grid), "cpu": cpu, "launch": launch,
            "slope": slopes.pop() if slopes else 0.0}


def predict_step_ms(bundle: dict, batch_size: int, q_tokens: int, kv_read: int, cpu_overhead: bool = True,
                    **eng) -> float:
    """A step's predicted wall time (ms), as simkit's hfcb predictor computes it."""
    kernel = bundle["kernel"].kernel_ms(q_tokens, kv_read, **eng)
    if not cpu_overhead:
        return kernel
    cpu = separable(bundle["cpu"], batch_size, q_tokens) + bundle["slope"] * kv_read
    launch = separable(bundle["launch"], batch_size, q_tokens, "launch") if bundle["launch"] else 0.0
    return cpu + max(kernel, launch)


# ---------------------------------------------------------------------------------------
# Engine step reconstruction from the timing wrappers' events — pure.

def assemble_steps(events: list) -> list:
    """Turn wrapper events (kind, t0, t1, info) into steps. A step starts at a
    prepare_next_batch that returned True ("prep", info True) and collects the phases that
    follow until the next "prep" event. info of "sched" is (requests, q_tokens, kv_read,
    decodes, prefills); of "graph" True when the step captured a new CUDA graph."""
    steps, cur = [], None
    for kind, t0, t1, info in sorted(events, key=lambda e: (e[1], e[2])):
        if kind == "prep":
            if cur is not None:
                cur["next_start"] = t0 if info else None
                steps.append(cur)
                cur = None
            if info:
                cur = {"start": t0, "prep_ms": (t1 - t0) * 1e3, "sched_ms": 0.0, "tensors_ms": 0.0,
                       "kwargs_ms": 0.0, "launch_ms": 0.0, "wait_ms": 0.0, "update_ms": 0.0,
                       "capture": False, "graph_key": None, "end": None, "shape": None, "next_start": None}
            continue
        if cur is None:
            continue
        if kind == "sched":
            cur["sched_ms"] += (t1 - t0) * 1e3
            cur["shape"] = info
        elif kind == "graph":
            # info: (captured, graph key), or a bare bool from older recorders
            captured, key = info if isinstance(info, tuple) else (info, None)
            cur["capture"] = cur["capture"] or bool(captured)
            cur["graph_key"] = key
        elif kind in ("tensors", "kwargs", "launch", "wait", "update"):
            cur[kind + "_ms"] += (t1 - t0) * 1e3
            if kind == "update":
                cur["end"] = t1
    if cur is not None:
        steps.append(cur)
    out = []
    for s in steps:
        if s["end"] is None or s["shape"] is None:
            continue  # a step cut off by the end of the record
        s["wall_ms"] = (s["end"] - s["start"]) * 1e3
        s["cycle_ms"] = (s["next_start"] - s["start"]) * 1e3 if s["next_start"] is not None else None
        n_req, q, kv, dec, pre = s["shape"]
        s.update(n_req=n_req, q_tokens=q, kv_read=kv, decodes=dec, prefills=pre)
        out.append(s)
    return out


def residual_ms(step: dict, kernel: KernelModel, loop_ms: float, eng: dict | None = None) -> float:
    """Measured wall − max(kernel prediction, launch) of one step: what the kernel tables
    do not explain."""
    k = kernel.kernel_ms(step["q_tokens"], step["kv_read"], **(eng or {}))
    return step["wall_ms"] + loop_ms - max(k, step["launch_ms"])


def kv_slope(points: list, min_span: int = 1000) -> float:
    """Least-squares slope (ms per cached token) of the residual against the cached tokens
    read, within groups of equal batch size: points are (batch_size, kv_read, residual),
    and each batch size keeps its own intercept, so the slope comes only from how the
    residual moves with the cached tokens at a fixed batch size. The engine builds its
    read indices every step, one per cached token."""
    groups = {}
    for b, x, y in points:
        groups.setdefault(b, []).append((float(x), float(y)))
    sxx = sxy = 0.0
    span = 0.0
    for pts in groups.values():
        if len(pts) < 2:
            continue
        mx = statistics.fmean(x for x, _ in pts)
        my = statistics.fmean(y for _, y in pts)
        sxx += sum((x - mx) ** 2 for x, _ in pts)
        sxy += sum((x - mx) * (y - my) for x, y in pts)
        span = max(span, max(x for x, _ in pts) - min(x for x, _ in pts))
    if span < min_span or sxx == 0:
        raise ProfileError(f"cannot fit the CPU cost per cached token: need decode steps of one batch size "
                           f"spanning {min_span} cached tokens, the widest span is {span:.0f}")
    return sxy / sxx


# Phases whose warm decode-only steps fit the CPU cost per cached token: the steady
# decode passes and the long-context decodes, so the fit covers the contexts the
# predictor is used at (tens of thousands of cached tokens). The first decode after a
# lone prefill (phase "prefill") is left out: fitted alone (kv 8–8192 at batch 1) it gave
# 0.21 us per token, which over-predicted the profile's own long-context steps by 7–10%.
SLOPE_PHASES = ("decode", "decode2", "longctx")


def slope_points(steps: list, kernel, loop_ms: float, eng: dict, quick: bool) -> list:
    phases = SLOPE_PHASES + (("prefill",) if quick else ())  # quick plans have no long contexts
    return [(s["n_req"], s["kv_read"], residual_ms(s, kernel, loop_ms, eng)) for s in steps
            if s.get("phase") in phases and classify(s) == "decode" and not s["capture"]]


def admission_ms(submits: list, steps: list) -> list:
    """For requests submitted to an idle engine: time from submission to the start of the
    next step (the engine thread's wake-up and queue drain)."""
    starts = sorted(s["start"] for s in steps)
    out = []
    for t in sorted(submits):
        nxt = next((st for st in starts if st >= t), None)
        if nxt is not None:
            out.append((nxt - t) * 1e3)
    return out


def loop_overhead_ms(steps: list) -> float:
    """Median time from one step's end to the next step's start in a busy loop."""
    gaps = [s["cycle_ms"] - s["wall_ms"] for s in steps if s.get("cycle_ms") is not None]
    return statistics.median(gaps) if gaps else 0.0


def classify(step: dict) -> str:
    """decode (decodes only), prefill (one request, a prefill), mixed (decodes + one
    prefill), other."""
    if step["prefills"] == 0 and step["decodes"] == step["n_req"]:
        return "decode"
    if step["n_req"] == 1 and step["prefills"] == 1:
        return "prefill"
    if step["prefills"] == 1 and step["decodes"] == step["n_req"] - 1:
        return "mixed"
    return "other"


def cpu_rows(steps: list, kernel: KernelModel, loop_ms: float, use_phases: dict, planned: set = frozenset(),
             min_count: int = 3, eng: dict | None = None, slope: float = 0.0) -> tuple:
    """Aggregate calibration steps into cpu_overheads rows keyed (batch_size, num_tokens).
    use_phases maps a phase label to the step kinds it contributes. Returns (rows,
    n_clamped): rows sorted by key, each with medians; the CPU value is wall − max(kernel,
    launch) − slope × kv_read (the CPU at no cached tokens), clamped at 0 (n_clamped counts
    steps that were negative). Keys not in planned with fewer than min_count steps
    (stragglers of a staggered admission) are dropped."""
    groups, clamped = {}, 0
    for s in steps:
        if s["capture"] or s.get("phase") not in use_phases or classify(s) not in use_phases[s["phase"]]:
            continue
        wall = s["wall_ms"] + loop_ms
        k = kernel.kernel_ms(s["q_tokens"], s["kv_read"], **(eng or {}))
        cpu = wall - max(k, s["launch_ms"]) - slope * s["kv_read"]
        if cpu < 0:
            clamped += 1
            cpu = 0.0
        sched = s["sched_ms"]
        prep = s["prep_ms"] - sched + s["kwargs_ms"]
        other = max(0.0, wall - (s["prep_ms"] + s["kwargs_ms"] + s["launch_ms"] + s["wait_ms"] + s["update_ms"]))
        groups.setdefault((s["n_req"], s["q_tokens"]), []).append(
            {"cpu": cpu, "wall": wall, "kernel": k, "kv": s["kv_read"], "launch": s["launch_ms"], "wait": s["wait_ms"],
             "sched": sched, "prep": prep, "update": s["update_ms"], "other": other})
    rows = []
    for (b, n), g in sorted(groups.items()):
        if (b, n) not in planned and len(g) < min_count:
            continue
        med = {f: statistics.median(x[f] for x in g) for f in g[0]}
        rows.append({"batch_size": b, "num_tokens": n, "count": len(g), **med})
    return rows, clamped


# ---------------------------------------------------------------------------------------
# CUDA-graph capture cost — pure.
#
# transformers 5.17 keys its graphs on (padded query tokens, padded cached tokens read,
# padded max key length) and captures one the first time a step meets a new key: the
# step then runs the forward eagerly, records it into a graph and stores it (no eviction).
# Its extra wall time over a replay is the capture cost.

CAPTURE_HEADER = ["kind", "q_pad", "kv_pad", "seqk_pad", "capture_ms", "wall_ms", "warm_pred_ms"]
CAPTURE_KINDS = ("first", "second", "decode", "prefill", "mixed")


def capture_kind(step: dict) -> str:
    """decode (decodes only), prefill (no decodes), mixed (both)."""
    if step["decodes"] >= step["n_req"]:
        return "decode"
    if step["decodes"] == 0:
        return "prefill"
    return "mixed"


def _key_fields(s: dict, eng: dict) -> tuple:
    key = s.get("graph_key") or ()
    if len(key) >= 3:
        return key[0], key[1], max(key[2:])
    q = pad_to_interval(s["q_tokens"], Q_PAD_INTERVAL, eng.get("budget", 8192))
    kv = pad_to_interval(s["kv_read"], KV_PAD_INTERVAL, eng.get("num_pages", H200_NUM_PAGES))
    return q, kv, ""


def capture_rows(steps: list, bundle: dict, eng: dict, fresh: list = ()) -> list:
    """graph_capture.csv: one row per measured step that captured a new CUDA graph, with
    capture_ms = its wall time − the warm prediction of the same step from the bundle's
    own tables (predict_step_ms). Kinds: decode, prefill, mixed for the calibration
    engine's captures; ``first`` and ``second`` for the first and second capture of a
    freshly started engine process (``fresh``: lists of steps, one list per process),
    which also pay the process's first-use costs (``second`` only from processes that
    served several requests at once). Steps outside the tables are skipped."""
    def row(kind, s):
        try:
            warm = predict_step_ms(bundle, s["n_req"], s["q_tokens"], s["kv_read"], **eng)
        except ProfileError:
            return None
        q, kv, seqk = _key_fields(s, eng)
        return {"kind": kind, "q_pad": q, "kv_pad": kv, "seqk_pad": seqk, "capture_ms": s["wall_ms"] - warm,
                "wall_ms": s["wall_ms"], "warm_pred_ms": warm}

    rows = [r for r in (row(capture_kind(s), s) for s in steps if s["capture"]) if r]
    for proc in fresh:
        caps = [r for r in (row("first", s) for s in proc if s["capture"]) if r]
        if not caps:
            continue
        rows.append(caps[0])
        # A process serving several requests at once pays a second first-use cost at
        # one later capture (its second in 17 of 23 recorded processes, a few steps
        # later in the others); one serving a request at a time does not. The sample
        # is the costliest capture after the first.
        if any(s["n_req"] > 1 for s in proc) and len(caps) > 1:
            rows.append(dict(max(caps[1:], key=lambda r: r["capture_ms"]), kind="second"))
    rows.sort(key=lambda r: (CAPTURE_KINDS.index(r["kind"]), r["q_pad"], r["kv_pad"], r["capture_ms"]))
    return rows


# ---------------------------------------------------------------------------------------
# Bundle writers — pure.

def stats(samples: list) -> dict:
    if not samples:
        raise ProfileError("no samples")
    return {"min": min(samples), "max": max(samples), "mean": statistics.fmean(samples),
            "median": statistics.median(samples), "std": statistics.pstdev(samples)}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ProfileError(f"non-finite value {v}")
        return f"{v:.6g}"
    return str(v)


def write_csv(path: str, header: list, rows: list) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_fmt(r[h]) for h in header])


def mlp_rows(tokens: list, samples: dict) -> tuple:
    """mlp.csv in Vidur's layout: samples[op][i] are the timings (ms) at tokens[i]."""
    header = [f"time_stats.{op}.{s}" for op in MLP_OPS for s in STATS]
    header += ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp", "num_tokens",
               "num_tensor_parallel_workers"]
    rows = []
    for i, n in enumerate(tokens):
        r = {"n_head": MODEL["q_heads"], "n_kv_head": MODEL["kv_heads"], "n_embd": MODEL["hidden"],
             "n_expanded_embd": MODEL["intermediate"], "vocab_size": MODEL["vocab"], "use_gated_mlp": True,
             "num_tokens": n, "num_tensor_parallel_workers": 1}
        for op in MLP_OPS:
            for s, v in stats(samples[op][i]).items():
                r[f"time_stats.{op}.{s}"] = v
        rows.append(r)
    return header, rows


def attention_rows(attn_q: list, attn_kv: list, samples: list, budget: int = 8192) -> tuple:
    """attention.csv: one prefill row per (Q, KVpad) with batch_size 1, prefill_chunk_size
    = Q (padded query tokens of the whole step) and kv_cache_size = KVpad (padded cached
    tokens read; the key length is KVpad + Q). Decode rows (prefill_chunk_size 0) restate
    the same measurement for b decodes, whose Q is pad64(b), so that loaders that need
    decode rows get the engine's real cost; simval's hfcb predictor reads only prefill rows."""
    cols = ["attn_prefill", "attn_decode"]
    header = [f"time_stats.{c}.{s}" for c in cols for s in STATS]
    header += ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers", "max_model_len",
               "batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill", "attention_backend"]
    base = {"n_embd": MODEL["hidden"], "n_q_head": MODEL["q_heads"], "n_kv_head": MODEL["kv_heads"],
            "block_size": 256, "num_tensor_parallel_workers": 1, "max_model_len": H200_NUM_PAGES,
            "attention_backend": ATTENTION_BACKEND}
    blank = {f"time_stats.{c}.{s}": "" for c in cols for s in STATS}
    rows = []
    for i, q in enumerate(attn_q):
        for j, kv in enumerate(attn_kv):
            st = stats(samples[i][j])
            r = {**base, **blank, "batch_size": 1, "prefill_chunk_size": q, "kv_cache_size": kv, "is_prefill": True}
            r.update({f"time_stats.attn_prefill.{s}": v for s, v in st.items()})
            rows.append(r)
    for b in sorted({1, *[q for q in attn_q if q <= 1024]}):
        i = attn_q.index(pad_to_interval(b, Q_PAD_INTERVAL, budget)) if pad_to_interval(
            b, Q_PAD_INTERVAL, budget) in attn_q else None
        if i is None:
            continue
        for j, kv in enumerate(attn_kv):
            st = stats(samples[i][j])
            r = {**base, **blank, "batch_size": b, "prefill_chunk_size": 0, "kv_cache_size": kv, "is_prefill": False}
            r.update({f"time_stats.attn_decode.{s}": v for s, v in st.items()})
            rows.append(r)
    return header, rows


CPU_HEADER = ["model_name", "tensor_parallel_degree", "batch_size", "num_tokens", "schedule_median",
              "sampler_e2e_median", "prepare_inputs_e2e_median", "process_model_outputs_median",
              "ray_comm_time_mean", "cpu_total_median", "launch_median", "cpu_per_kv_token_ms", "gpu_wait_median",
              "wall_median", "kernel_pred_median", "kv_read_median", "count"]


def cpu_csv_rows(rows: list, slope: float) -> list:
    out = []
    for r in rows:
        out.append({"model_name": MODEL["name"], "tensor_parallel_degree": 1, "batch_size": r["batch_size"],
                    "num_tokens": r["num_tokens"], "schedule_median": r["sched"], "sampler_e2e_median": 0.0,
                    "prepare_inputs_e2e_median": r["prep"], "process_model_outputs_median": r["update"],
                    "ray_comm_time_mean": r["other"], "cpu_total_median": r["cpu"], "launch_median": r["launch"],
                    "cpu_per_kv_token_ms": slope, "kv_read_median": r["kv"], "gpu_wait_median": r["wait"], "wall_median": r["wall"], "kernel_pred_median": r["kernel"],
                    "count": r["count"]})
    return out


def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def provenance_yaml(fields: dict, comments: list) -> str:
    """provenance.yaml with simkit.Provenance's fields only (the loader rejects unknown
    ones); comments go first as '#' lines."""
    lines = [("# " + c).rstrip() for c in comments]
    for k, v in fields.items():
        if isinstance(v, dict):
            lines.append(f"{k}:")
            lines += [f"  {kk}: {_yaml_scalar(vv)}" for kk, vv in v.items()]
        else:
            lines.append(f"{k}: {_yaml_scalar(v)}")
    return "\n".join(lines) + "\n"


METHOD = (
    "Kernel tables: CUDA-graph microbenchmarks (warm-up, capture, median of replays timed with CUDA events) "
    "of the model's own modules, each per-layer op run once per layer with that layer's weights and divided by "
    "the layers; ms per layer (per step for emb = embedding + rotary table, final_norm, lm_head = row gather + "
    "LM head, sampler = fp32 cast + argmax + copy; lm_head and sampler are keyed by LM-head rows in the "
    "num_tokens column). attention.csv: the engine's packed attention (transformers' sdpa_paged forward and "
    "PagedAttentionCache.update: cache write, index_select of KVpad+Q rows, repeat_kv, one "
    "scaled_dot_product_attention with an additive bf16 [1,1,Q,KVpad+Q] mask view, is_causal False) stored as "
    "rows with batch_size 1, prefill_chunk_size = Q = the step's query tokens padded to 64 (cap 8192), "
    "kv_cache_size = KVpad = the step's cached tokens read padded to 16384 (16384 when none), is_prefill True; "
    "the read indices cover KVpad-8192+Q distinct cache rows and the padding trash row. Decode rows restate "
    "the measurement at Q = pad64(batch_size). A step's kernel time = layers x (per-layer ops at Q, add twice, "
    "+ attention(Q, KVpad)) + emb(Q) + final_norm(Q) + lm_head(R) + sampler(R), R = min(Q, 1024). "
    "cpu_overheads.csv: the real ContinuousBatchingManager (CUDA graphs, fifo, warm: graph-capture steps "
    "excluded) with timing wrappers on its step phases; per calibration shape (batch_size = requests in the "
    "step, num_tokens = unpadded query tokens), cpu_total_median = median over steps of wall - max(kernel "
    "prediction, launch), where wall = prepare_next_batch start to update_batch end plus the loop's median gap "
    "and launch = CPU time of the graph-replay call; this residual holds the CPU work (scheduling, input "
    "preparation and H2D copies, mask building, dispatch, output handling) plus any GPU time the kernel tables "
    "miss (inter-kernel gaps, eager mask kernels). Vidur columns: schedule = schedule_batch, "
    "prepare_inputs_e2e = rest of prepare_next_batch + get_model_kwargs, process_model_outputs = update_batch, "
    "ray_comm_time = unaccounted loop time, sampler_e2e = 0 (inside the graph). gpu_wait_median = time blocked "
    "in the device synchronize (GPU-bound indicator). Rows: decode-only steps (num_tokens == batch_size), "
    "single-request prefills (batch_size 1), mixed steps (evidence for the separable scheme "
    "D(b) + X(n - b) that simkit's hfcb predictor uses). cpu_per_kv_token_ms: least-squares slope of the "
    "decode-only residual against the cached tokens read, within batch sizes (each batch size its own "
    "intercept), over the steady decode passes and the long-context decodes (the engine builds its read "
    "indices every step, one per cached token); cpu_total_median is normalised to no cached tokens (residual - slope x kv_read) and "
    "a prediction adds slope x the step's cached tokens. graph_capture.csv: the engine keys its CUDA graphs on "
    "(padded query tokens, padded cached tokens read, longest key length padded to a power of two >= 1024) and "
    "captures one on a step's first use of a key; per step kind (decode-only, prefill-only, mixed) and padded Q, "
    "capture_ms is the median of (wall of a calibration step that captured - the warm prediction of the same step "
    "from this bundle); kind first is the first step of freshly started engine processes (the replay driver, "
    "one-request trace, no warm-up), which also pays the process's first-use costs. "
    "Calibration workloads are synthetic, not the catalog's."
)


def fresh_steps_from_run(run: dict) -> list:
    """The timed steps of every repetition of a recorded run (simval real output, a
    baseline) of fresh engine processes, one list per repetition, in the shape
    capture_rows takes."""
    procs = []
    for rep in run["repetitions"]:
        steps = []
        for x in rep.get("steps") or []:
            if x.get("warmup"):
                continue
            items = x.get("items", [])
            dec = sum(1 for it in items if it.get("decode"))
            key = tuple(x[k] for k in ("q_pad", "kv_pad", "seqk_pad") if k in x)
            steps.append({"n_req": len(items), "decodes": dec, "prefills": len(items) - dec,
                          "q_tokens": x.get("q_tokens", 0), "kv_read": x.get("kv_read", 0),
                          "wall_ms": x["duration_s"] * 1e3, "capture": bool(x.get("captured")), "graph_key": key})
        if steps:
            procs.append(steps)
    return procs
