"""Profile transformers' continuous-batching engine ("hfcb") on one GPU into a simval bundle.

Usage: python3 profile_hfcb.py --out DIR --target NAME [--quick]

What it measures (the engine's semantics: notes/hfcb-scheduler.md):

a) Kernel tables, by CUDA-graph microbenchmarks on the model's own modules (random
   Qwen3-0.6B-shaped weights, bf16): every per-layer op at a num_tokens grid, timed as a
   graph that runs the op once per layer with that layer's weights (so weights are not
   re-read from L2), divided by the layers; per-step ops (embedding + rotary table, final
   norm, LM head with its row gather, sampler = fp32 cast + argmax + copy) likewise; and
   the engine's packed attention (transformers' own sdpa_paged forward and paged-cache
   update: cache write, index_select of KVpad+Q rows, repeat_kv, one SDPA with an
   additive bf16 4-D mask, is_causal False) over (Q, KVpad).
b) Engine calibration: the real ContinuousBatchingManager (CUDA graphs on, fifo), with
   timing wrappers on its step phases (schedule, input preparation, graph launch, device
   wait, output update). Decode-only steps at several batch sizes, prefill-only steps at
   several prompt lengths, mixed steps (b decoders + one prefill); graph-capture steps
   are excluded; medians. A torch.profiler window gives the GPU time per step.
c) cpu_overheads.csv: per calibration shape (batch_size, num_tokens), cpu_total_median =
   measured wall − max(kernel prediction from (a), graph-launch CPU time), with the phase
   breakdown in Vidur's columns and launch_median / gpu_wait_median as indicators.
d) provenance.yaml (source: measured) plus hfcb_calibration.csv (every measured step) and
   hfcb_report.json (checks and diagnostics).

Everything above the "GPU part" marker is pure Python and unit-tested without a GPU
(test_profile_hfcb.py). Any failed step exits nonzero; nothing falls back silently.
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
            "profile_b": [1],
        }
    return {
        "quick": False,
        "tokens": [1, 8, 32] + ENGINE_Q + [12288, 16384],
        "attn_q": list(ENGINE_Q),
        "attn_kv": [16384, 32768, 49152, 65536],
        "replays": 3,
        "prefill_n": [16, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
        "prefill_reps": 3,
        "decode_b": [1, 2, 4, 8, 16, 32, 64, 128, 256],
        "decode_tokens": 40,
        "mixed_b": [4, 32],
        "mixed_n": [256, 1000, 2048],
        "mixed_reps": 3,
        "longctx": [(8, 2000), (32, 2000)],
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
                       "capture": False, "end": None, "shape": None, "next_start": None}
            continue
        if cur is None:
            continue
        if kind == "sched":
            cur["sched_ms"] += (t1 - t0) * 1e3
            cur["shape"] = info
        elif kind == "graph":
            cur["capture"] = cur["capture"] or bool(info)
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
    "a prediction adds slope x the step's cached tokens. Calibration workloads are synthetic, not the catalog's."
)


# ---------------------------------------------------------------------------------------
# GPU part. Everything below needs torch, transformers and a CUDA GPU.

def nvidia_smi() -> tuple:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise ProfileError(f"nvidia-smi failed: {e}") from e
    first = out.strip().splitlines()[0]
    name, driver = [x.strip() for x in first.split(",", 1)]
    return name, driver


def build_model():
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config(vocab_size=MODEL["vocab"], hidden_size=MODEL["hidden"],
                      intermediate_size=MODEL["intermediate"], num_hidden_layers=MODEL["layers"],
                      num_attention_heads=MODEL["q_heads"], num_key_value_heads=MODEL["kv_heads"],
                      head_dim=MODEL["head_dim"], max_position_embeddings=40960, rope_theta=1000000.0,
                      rms_norm_eps=1e-6, tie_word_embeddings=True)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM._from_config(cfg, attn_implementation=ATTENTION_BACKEND, dtype=torch.bfloat16)
    return model.eval()


class GraphBench:
    """Times GPU work as CUDA-graph replays: fn is captured `calls` times into one graph,
    and each replay's CUDA-event time / calls is one sample (ms)."""

    def __init__(self, replays: int):
        import torch

        self.torch, self.replays = torch, replays

    def __call__(self, fn, calls: int) -> list:
        torch = self.torch
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(calls):
                fn()
        g.replay()
        torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        out = []
        for _ in range(self.replays):
            e0.record()
            g.replay()
            e1.record()
            e1.synchronize()
            out.append(e0.elapsed_time(e1) / calls)
        del g
        return out


def _require_attrs(obj, names: list, what: str) -> None:
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise ProfileError(f"{what} lacks {missing}: this transformers version's Qwen3 differs from 5.17")


def bench_ops(model, plan: dict) -> dict:
    """mlp.csv samples: per op, per num_tokens, a list of ms."""
    import torch
    from transformers.models.qwen3 import modeling_qwen3 as mq

    layers = list(model.model.layers)
    for l in layers[:1]:
        _require_attrs(l, ["input_layernorm", "post_attention_layernorm", "self_attn", "mlp"], "decoder layer")
        _require_attrs(l.self_attn, ["q_proj", "k_proj", "v_proj", "o_proj", "q_norm", "k_norm"], "Qwen3Attention")
        _require_attrs(l.mlp, ["gate_proj", "up_proj", "down_proj", "act_fn"], "Qwen3MLP")
    _require_attrs(model.model, ["embed_tokens", "rotary_emb", "norm"], "Qwen3Model")
    _require_attrs(mq, ["apply_rotary_pos_emb"], "modeling_qwen3")
    bench = GraphBench(plan["replays"])
    nl = len(layers)
    hq, hk, d = MODEL["q_heads"], MODEL["kv_heads"], MODEL["head_dim"]
    samples = {op: [] for op in MLP_OPS}
    bf = dict(device="cuda", dtype=torch.bfloat16)
    for idx, n in enumerate(plan["tokens"]):
        if idx % 8 == 0:
            log(f"kernel ops at num_tokens {n} ({idx + 1}/{len(plan['tokens'])})")
        h = torch.randn(1, n, MODEL["hidden"], **bf)
        h2 = torch.randn(1, n, MODEL["hidden"], **bf)
        qv = torch.randn(1, n, hq, d, **bf)
        kv = torch.randn(1, n, hk, d, **bf)
        qt, kt = qv.transpose(1, 2), kv.transpose(1, 2)
        a = torch.randn(1, n, hq * d, **bf)
        g = torch.randn(1, n, MODEL["intermediate"], **bf)
        u = torch.randn(1, n, MODEL["intermediate"], **bf)
        ids = torch.randint(0, MODEL["vocab"], (1, n), device="cuda")
        pos = torch.arange(n, device="cuda").unsqueeze(0)
        cos, sin = model.model.rotary_emb(h, pos)
        rows = torch.arange(n, device="cuda", dtype=torch.int32)
        logits = torch.randn(1, n, MODEL["vocab"], **bf)
        out_ids = torch.zeros(1, n + 1, device="cuda", dtype=torch.int32)

        def per_layer(f):
            def run():
                for l in layers:
                    f(l)
            return run

        def sample_fn():
            t = logits.float().argmax(dim=-1, keepdim=True).squeeze(-1)
            out_ids[0, :n].copy_(t[0])

        layer_fns = {
            "input_layernorm": per_layer(lambda l: l.input_layernorm(h)),
            "attn_pre_proj": per_layer(lambda l: (l.self_attn.q_proj(h), l.self_attn.k_proj(h),
                                                  l.self_attn.v_proj(h))),
            "attn_qk_norm": per_layer(lambda l: (l.self_attn.q_norm(qv), l.self_attn.k_norm(kv))),
            "attn_rope": per_layer(lambda l: mq.apply_rotary_pos_emb(qt, kt, cos, sin)),
            "attn_post_proj": per_layer(lambda l: l.self_attn.o_proj(a)),
            "post_attention_layernorm": per_layer(lambda l: l.post_attention_layernorm(h)),
            "mlp_up_proj": per_layer(lambda l: (l.mlp.gate_proj(h), l.mlp.up_proj(h))),
            "mlp_act": per_layer(lambda l: l.mlp.act_fn(g) * u),
            "mlp_down_proj": per_layer(lambda l: l.mlp.down_proj(g)),
            "add": per_layer(lambda l: h + h2),
        }
        step_fns = {
            "emb": lambda: (model.model.embed_tokens(ids), model.model.rotary_emb(h, pos)),
            "final_norm": lambda: model.model.norm(h),
            "lm_head": lambda: model.lm_head(h[:, rows, :]),
            "sampler": sample_fn,
        }
        calls = 4 if n <= 512 else 1
        for op, f in layer_fns.items():
            samples[op].append([t / nl for t in bench(f, calls)])
        step_calls = 16 if n <= 512 else (4 if n <= 4096 else 2)
        for op, f in step_fns.items():
            samples[op].append(bench(f, step_calls))
        del h, h2, qv, kv, qt, kt, a, g, u, ids, pos, cos, sin, rows, logits, out_ids
        torch.cuda.empty_cache()
    return samples


def _paged_cache_view(k_cache, v_cache, sentinel: int):
    """An object with the attributes PagedAttentionCache.update reads, bound to the
    engine's own update method, so the microbenchmark runs the engine's cache code."""
    import types

    from transformers.generation.continuous_batching.cache import PagedAttentionCache

    ns = types.SimpleNamespace(layer_index_to_group_indices={0: (0, 0)}, key_cache=[k_cache],
                               value_cache=[v_cache], sliding_windows={0: 1}, sentinel_index=sentinel)
    ns.update = types.MethodType(PagedAttentionCache.update, ns)
    return ns


def bench_attention(model, plan: dict) -> tuple:
    """attention samples[i][j] (ms per layer) at (attn_q[i], attn_kv[j]), and the SDPA
    kernel names seen."""
    import torch
    from transformers.integrations.sdpa_paged import sdpa_attention_paged_forward

    attn_mod = model.model.layers[0].self_attn
    _require_attrs(attn_mod, ["layer_idx", "num_key_value_groups", "scaling"], "Qwen3Attention")
    hq, hk, d = MODEL["q_heads"], MODEL["kv_heads"], MODEL["head_dim"]
    qmax, kvmax = max(plan["attn_q"]), max(plan["attn_kv"])
    pages = kvmax + qmax + 256
    bf = dict(device="cuda", dtype=torch.bfloat16)
    k_cache = torch.randn(pages, hk, d, **bf)
    v_cache = torch.randn(pages, hk, d, **bf)
    trash = pages - 1
    cache = _paged_cache_view(k_cache, v_cache, trash)
    # The engine's mask is a view of a [1, 1, max_batch_tokens, num_pages + max_batch_tokens] buffer.
    mask_buf = torch.zeros(1, 1, qmax, H200_NUM_PAGES + 8192, **bf)
    bench = GraphBench(plan["replays"])
    samples = [[None] * len(plan["attn_kv"]) for _ in plan["attn_q"]]
    kernels = set()
    for j, kvp in enumerate(plan["attn_kv"]):
        for i, q in enumerate(plan["attn_q"]):
            if i % 16 == 0:
                log(f"attention KVpad {kvp}, Q {q}..")
            distinct = min(kvp - KV_PAD_INTERVAL // 2 + q, kvp + q)
            read = torch.cat([torch.arange(distinct, device="cuda"),
                              torch.full((kvp + q - distinct,), trash, device="cuda")])
            write = torch.arange(distinct - q, distinct, device="cuda")
            qs = torch.randn(1, q, hq, d, **bf).transpose(1, 2)
            ks = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
            vs = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
            mask = mask_buf[..., :q, :kvp + q]

            def run():
                sdpa_attention_paged_forward(attn_mod, qs, ks, vs, mask, dropout=0.0, scaling=attn_mod.scaling,
                                             cache=cache, read_index=[read], write_index=[write])

            if i == 0 and j == 0:
                kernels |= sdpa_kernel_names(run)
            calls = 4 if q <= 512 else (2 if q <= 2048 else 1)
            samples[i][j] = bench(run, calls)
            del read, write, qs, ks, vs, mask
    del k_cache, v_cache, mask_buf, cache
    torch.cuda.empty_cache()
    return samples, sorted(kernels)


def sdpa_kernel_names(fn) -> set:
    """The GPU kernels one call launches whose names look like attention (which SDPA
    backend the engine gets: flash, memory-efficient/cutlass, cuDNN or math)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names = set()
    for e in prof.events():
        n = e.name.lower()
        if any(s in n for s in ("attention", "fmha", "flash", "cudnn", "softmax", "gemm", "bmm", "efficient")):
            names.add(e.name[:120])
    return names


# ----- engine calibration

class Recorder:
    """Timing wrappers on the engine's step phases; events are (kind, t0, t1, info)."""

    def __init__(self):
        self.events = []

    def wrap(self, obj, name: str, kind: str, info=None) -> None:
        if not hasattr(obj, name):
            raise ProfileError(f"engine object {type(obj).__name__} has no {name}: transformers differs from 5.17")
        orig, ev, clock = getattr(obj, name), self.events, time.perf_counter

        def wrapper(*a, **kw):
            t0 = clock()
            r = orig(*a, **kw)
            ev.append((kind, t0, clock(), info(r) if info else None))
            return r

        setattr(obj, name, wrapper)


def _sched_info(r):
    reqs, _fast, nq, kv = r
    if not reqs:
        return (0, 0, 0, 0, 0)
    dec = sum(1 for fs in reqs if fs.query_length == 1 and len(fs.state.generated_tokens) > 0)
    pre = sum(1 for fs in reqs if fs.has_new_token and len(fs.state.generated_tokens) == 0)
    return (len(reqs), nq, kv, dec, pre)


class Engine:
    def __init__(self, model):
        from transformers import GenerationConfig

        try:
            from transformers import ContinuousBatchingConfig
        except ImportError:
            from transformers.generation.continuous_batching import ContinuousBatchingConfig
        gc = GenerationConfig(do_sample=False, eos_token_id=-1, max_new_tokens=16, pad_token_id=0)
        cbc = ContinuousBatchingConfig(block_size=256, use_cuda_graph=True, scheduler_type="fifo")
        self.mgr = model.init_continuous_batching(generation_config=gc, continuous_batching_config=cbc)
        self.mgr.start()
        deadline = time.perf_counter() + 120
        while getattr(self.mgr, "batch_processor", None) is None:
            if time.perf_counter() > deadline or not self.mgr.is_running():
                raise ProfileError("the continuous-batching manager did not start within 120 s")
            time.sleep(0.05)
        bp = self.mgr.batch_processor
        self.rec = Recorder()
        self.rec.wrap(bp, "prepare_next_batch", "prep", bool)
        self.rec.wrap(bp.scheduler, "schedule_batch", "sched", _sched_info)
        self.rec.wrap(bp.inputs_and_outputs, "prepare_batch_tensors", "tensors")
        self.rec.wrap(bp.inputs_and_outputs, "get_model_kwargs", "kwargs")
        self.rec.wrap(bp.model_runner, "compute_batch", "launch")
        self.rec.wrap(bp.inputs_and_outputs, "get_graph", "graph", lambda g: g is None)
        self.rec.wrap(bp.inputs_and_outputs, "retrieve_device_outputs", "wait")
        self.rec.wrap(bp, "update_batch", "update")
        self.rng = random.Random(1234)
        self.counter = 0
        self.phases = []  # (label, t_begin, t_end)
        self.submits = {}  # request id → submit time
        self.results = {}

    def resolved(self) -> dict:
        bp = self.mgr.batch_processor
        c, s = bp.cache, bp.scheduler
        return {"block_size": c.block_size, "num_blocks": c.num_blocks, "num_pages": c.num_pages,
                "max_batch_tokens": bp.max_batch_tokens, "max_requests_per_batch": s.max_requests_per_batch,
                "safety_margin": s.safety_margin, "scheduler": type(s).__name__,
                "use_async_batching": bool(bp.use_async_batching),
                "max_blocks_per_request": c.max_blocks_per_request,
                "cuda_graphs": list(self.mgr.continuous_batching_config.cuda_graph_booleans)}

    def submit(self, prompt: int, max_new: int) -> str:
        self.counter += 1
        rid = f"cal-{self.counter}"
        ids = [self.rng.randrange(1000, 100000) for _ in range(prompt)]  # distinct: no prefix sharing
        self.submits[rid] = time.perf_counter()
        if self.mgr.add_request(ids, request_id=rid, max_new_tokens=max_new, record_timestamps=True) is None:
            raise ProfileError(f"the engine refused request {rid}")
        return rid

    def wait(self, rids: list, timeout_s: float = 120.0) -> None:
        pending = set(rids) - set(self.results)
        deadline = time.perf_counter() + timeout_s
        while pending:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ProfileError(f"{len(pending)} calibration requests unfinished after {timeout_s:.0f} s")
            r = self.mgr.get_result(timeout=min(left, 5.0))
            if r is None:
                if not self.mgr.is_running():
                    raise ProfileError("the engine's generation thread stopped")
                continue
            if r.error:
                raise ProfileError(f"request {r.request_id} failed in the engine: {r.error}")
            self.results[r.request_id] = r
            pending.discard(r.request_id)

    def phase(self, label: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        self.phases.append((label, t0, time.perf_counter()))

    def cancel(self, rids: list) -> None:
        for rid in rids:
            self.mgr.cancel_request(rid)

    def stop(self) -> None:
        self.mgr.stop(block=True, timeout=60)


def calibrate(engine: Engine, plan: dict) -> None:
    """Run the calibration workloads; the steps are recovered from the wrappers' events."""

    def prefill():
        for n in plan["prefill_n"]:
            for _ in range(1 + plan["prefill_reps"]):  # the first one captures the new graphs
                engine.wait([engine.submit(n, 2)])
                time.sleep(0.01)
        log("prefill-only steps done")

    def decode(order):
        def run():
            for b in order:
                rids = [engine.submit(8, plan["decode_tokens"]) for _ in range(b)]
                engine.wait(rids)
                log(f"decode-only steps at batch {b} done")
        return run

    def mixed():
        for b in plan["mixed_b"]:
            dec = [engine.submit(8, 4000) for _ in range(b)]
            time.sleep(0.3)
            for n in plan["mixed_n"]:
                for _ in range(1 + plan["mixed_reps"]):
                    engine.wait([engine.submit(n, 1)])
                    time.sleep(0.12)
            engine.cancel(dec)
            time.sleep(0.3)
            log(f"mixed steps with {b} decoders done")

    def longctx():
        for b, ctx in plan["longctx"]:
            engine.wait([engine.submit(ctx, 24) for _ in range(b)])
            log(f"long-context decode at batch {b}, context {ctx} done")

    engine.wait([engine.submit(16, 4)])  # first request: engine warm-up
    engine.phase("prefill", prefill)
    # Decode runs twice, in opposite orders (full plan): the engine's CPU-side costs drift
    # between slower and faster stretches, and the two passes show by how much.
    engine.phase("decode", decode(plan["decode_b"]))
    if not plan["quick"]:
        engine.phase("decode2", decode(list(reversed(plan["decode_b"]))))
    engine.phase("mixed", mixed)
    engine.phase("longctx", longctx)


def gpu_time_per_step(engine: Engine, b: int) -> dict:
    """GPU busy time per decode step at batch b from a torch.profiler window."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    rids = [engine.submit(8, 4000) for _ in range(b)]
    time.sleep(0.5)
    n0 = len(engine.rec.events)
    try:
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            time.sleep(0.5)
        n1 = len(engine.rec.events)
        total_us, kernels = 0.0, 0
        for e in prof.events():
            if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA:
                total_us += e.time_range.elapsed_us()
                kernels += 1
        steps = [s for s in assemble_steps(engine.rec.events[n0:n1]) if not s["capture"]]
    finally:
        engine.cancel(rids)
        time.sleep(0.3)
    if not steps:
        return {"batch": b, "note": "no complete step inside the profiler window"}
    if kernels == 0:
        return {"batch": b, "steps": len(steps), "note": "no GPU activity visible to torch.profiler "
                "(CUDA-graph kernels not traced)"}
    return {"batch": b, "steps": len(steps), "gpu_events": kernels, "gpu_ms_per_step": total_us / 1e3 / len(steps),
            "wall_ms_per_step_profiled": statistics.median(s["wall_ms"] for s in steps),
            "kv_read": steps[0]["kv_read"], "q_tokens": steps[0]["q_tokens"]}


# ----- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="bundle directory to write (created)")
    p.add_argument("--target", required=True, help="the simval target this profile is for, e.g. h200-hfcb-qwen3-0.6b")
    p.add_argument("--quick", action="store_true", help="small grids (≤ 90 s on an H200), for smoke tests")
    return p.parse_args(argv)


def kernel_model(tokens, op_samples, plan, attn_samples) -> KernelModel:
    med = {op: [statistics.median(s) for s in op_samples[op]] for op in MLP_OPS}
    attn = [[statistics.median(s) for s in row] for row in attn_samples]
    return KernelModel(tokens, med, plan["attn_q"], plan["attn_kv"], attn)


def run(args) -> None:
    plan = make_plan(args.quick)
    stage = "checking the environment"
    try:
        import torch
        import transformers

        if not torch.cuda.is_available():
            raise ProfileError("no CUDA GPU is visible")
        gpu, driver = nvidia_smi()
        versions = {"torch": torch.__version__, "transformers": transformers.__version__,
                    "cuda": torch.version.cuda, "python": sys.version.split()[0]}
        log(f"{gpu} driver {driver}; {versions}")
        os.makedirs(args.out, exist_ok=True)
        stage = "building the model"
        model = build_model()
        log("model built")
        with torch.no_grad():
            stage = "kernel microbenchmarks (ops)"
            op_samples = bench_ops(model, plan)
            stage = "kernel microbenchmarks (attention)"
            attn_samples, sdpa_kernels = bench_attention(model, plan)
        log(f"SDPA kernels: {sdpa_kernels}")
        km = kernel_model(plan["tokens"], op_samples, plan, attn_samples)
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        stage = "starting the engine"
        engine = Engine(model)
        resolved = engine.resolved()
        log(f"engine resolved {resolved}")
        stage = "engine calibration"
        calibrate(engine, plan)
        stage = "GPU time per step (torch.profiler)"
        prof = [gpu_time_per_step(engine, b) for b in plan["profile_b"]]
        stage = "stopping the engine"
        engine.stop()
        stage = "assembling the bundle"
        write_bundle(args, plan, gpu, driver, versions, resolved, km, op_samples, attn_samples, sdpa_kernels,
                     engine, prof)
    except ProfileError:
        raise
    except Exception as e:  # every failure names its stage
        raise ProfileError(f"{stage}: {type(e).__name__}: {e}") from e


def tag_steps(steps: list, phases: list) -> None:
    for s in steps:
        s["phase"] = next((label for label, t0, t1 in phases if t0 <= s["start"] <= t1), None)


def write_bundle(args, plan, gpu, driver, versions, resolved, km, op_samples, attn_samples, sdpa_kernels,
                 engine, prof) -> None:
    steps = assemble_steps(engine.rec.events)
    tag_steps(steps, engine.phases)
    loop_ms = loop_overhead_ms(steps)
    eng = {"budget": resolved["max_batch_tokens"], "max_reqs": resolved["max_requests_per_batch"],
           "num_pages": resolved["num_pages"]}
    if (eng["budget"], eng["max_reqs"]) != (8192, 1024):
        log(f"WARNING: engine resolved max_batch_tokens {eng['budget']} and max_requests_per_batch "
            f"{eng['max_reqs']}, not the H200's 8192 and 1024")
    # The CPU cost per cached token, within batch sizes, over the profiled contexts.
    b1 = [(x, y) for b, x, y in slope_points(steps, km, loop_ms, eng, True) if b == 1]
    slope = kv_slope(slope_points(steps, km, loop_ms, eng, plan["quick"]))
    log(f"CPU cost per cached token: {slope * 1e3:.3f} us")
    use = {"decode": {"decode"}, "decode2": {"decode"}, "prefill": {"prefill"}, "mixed": {"mixed"}}
    by_pass = {}
    for ph in ("decode", "decode2"):
        pr, _ = cpu_rows(steps, km, loop_ms, {ph: {"decode"}}, eng=eng, slope=0.0, min_count=10)
        by_pass[ph] = {r["batch_size"]: {"wall_ms": r["wall"], "cpu_ms": r["cpu"], "launch_ms": r["launch"]}
                       for r in pr}
    planned = ({(b, b) for b in plan["decode_b"]} | {(1, n) for n in plan["prefill_n"]}
               | {(b + 1, b + n) for b in plan["mixed_b"] for n in plan["mixed_n"]})
    rows, clamped = cpu_rows(steps, km, loop_ms, use, planned, eng=eng, slope=slope)
    pts = {(r["batch_size"], r["num_tokens"]): r["cpu"] for r in rows}
    for b in plan["decode_b"]:
        if (b, b) not in pts:
            raise ProfileError(f"no warm decode-only step at batch size {b} was measured")
    for n in plan["prefill_n"]:
        if (1, n) not in pts:
            raise ProfileError(f"no warm prefill-only step of {n} tokens was measured")
    checks = []
    for r in rows:
        if r["batch_size"] > 1 and r["num_tokens"] > r["batch_size"]:
            pred = separable(pts, r["batch_size"], r["num_tokens"])
            total = pred + slope * r["kv"] + max(r["kernel"], r["launch"])
            checks.append({"batch_size": r["batch_size"], "num_tokens": r["num_tokens"], "measured_cpu_ms": r["cpu"],
                           "separable_cpu_ms": pred, "wall_ms": r["wall"], "wall_error": (total - r["wall"]) / r["wall"]})
    header, mrows = mlp_rows(plan["tokens"], op_samples)
    write_csv(os.path.join(args.out, "mlp.csv"), header, mrows)
    header, arows = attention_rows(plan["attn_q"], plan["attn_kv"], attn_samples)
    write_csv(os.path.join(args.out, "attention.csv"), header, arows)
    write_csv(os.path.join(args.out, "cpu_overheads.csv"), CPU_HEADER, cpu_csv_rows(rows, slope))
    cal_header = ["phase", "kind", "n_req", "decodes", "prefills", "q_tokens", "kv_read", "q_pad", "kv_pad", "wall_ms",
                  "kernel_pred_ms", "launch_ms", "wait_ms", "sched_ms", "prep_ms", "kwargs_ms", "update_ms",
                  "capture"]
    cal = []
    for s in steps:
        try:
            k = km.parts(s["q_tokens"], s["kv_read"], **eng)
        except OutOfGrid:
            k = {"kernel_ms": math.nan, "q_pad": 0, "kv_pad": 0}
        cal.append({**{h: s.get(h) for h in cal_header if h in s}, "phase": s.get("phase") or "",
                    "kind": classify(s), "q_pad": k["q_pad"], "kv_pad": k["kv_pad"],
                    "wall_ms": s["wall_ms"] + loop_ms, "kernel_pred_ms": k["kernel_ms"] if math.isfinite(
                        k["kernel_ms"]) else "", "capture": s["capture"]})
    write_csv(os.path.join(args.out, "hfcb_calibration.csv"), cal_header, cal)
    # Check: decode steps with many cached tokens (long contexts), predicted as the
    # predictor will (separable CPU + slope × cached tokens + kernel) against the measured wall.
    kv_sens = []
    for s in steps:
        if s.get("phase") == "longctx" and classify(s) == "decode" and not s["capture"]:
            try:
                k = km.kernel_ms(s["q_tokens"], s["kv_read"], **eng)
                pred = separable(pts, s["n_req"], s["q_tokens"]) + slope * s["kv_read"] + max(k, s["launch_ms"])
            except OutOfGrid:
                continue
            kv_sens.append({"batch_size": s["n_req"], "kv_read": s["kv_read"], "wall_ms": s["wall_ms"] + loop_ms,
                            "predicted_ms": pred, "error": (pred - s["wall_ms"] - loop_ms) / (s["wall_ms"] + loop_ms)})
    pre = next((p for p in engine.phases if p[0] == "prefill"), None)
    admission = admission_ms([t for t in engine.submits.values() if pre and pre[1] <= t <= pre[2]], steps)
    report = {
        "target": args.target, "quick": plan["quick"], "versions": versions, "gpu": gpu, "gpu_driver": driver,
        "engine_resolved": resolved, "sdpa_kernels": sdpa_kernels, "loop_overhead_ms": loop_ms,
        "steps_measured": len(steps), "steps_capture": sum(1 for s in steps if s["capture"]),
        "cpu_rows_clamped_steps": clamped, "separable_checks": checks, "gpu_profiler": prof,
        "kernel_pred_for_profiled": [
            {"batch": p["batch"], "kernel_pred_ms": km.kernel_ms(p["q_tokens"], p["kv_read"], **eng)}
            for p in prof if "q_tokens" in p],
        "cpu_per_kv_token_ms": slope, "batch1_decode_residual_vs_kv": sorted(b1),
        "decode_by_pass": by_pass,
        "longctx_decode_checks": kv_sens,
        "admission_ms_median": statistics.median(admission) if admission else None,
        "elapsed_s": time.perf_counter() - _T0,
    }
    with open(os.path.join(args.out, "hfcb_report.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
        f.write("\n")
    dec1 = pts.get((1, 1))
    comments = [
        f"simval profile of target {args.target}: transformers {versions['transformers']} continuous batching,",
        f"written by realkit/drivers/profile_hfcb.py{' --quick' if plan['quick'] else ''} in "
        f"{time.perf_counter() - _T0:.0f} s.",
        f"Engine resolved: {json.dumps(resolved)}",
        f"torch {versions['torch']}, CUDA {versions['cuda']}, Python {versions['python']}; SDPA kernels: "
        f"{', '.join(sdpa_kernels)[:300]}",
        f"Batch-1 decode: wall {rows[0]['wall']:.2f} ms, kernel prediction {rows[0]['kernel']:.2f} ms, "
        f"CPU/overhead {dec1:.2f} ms." if dec1 is not None and rows and rows[0]["batch_size"] == 1 else "",
        f"GPU time per step (torch.profiler): {json.dumps(prof)}"[:400],
        f"CPU/overhead per cached token read: {slope * 1e3:.4f} us (cpu_per_kv_token_ms; cpu_total_median is at "
        f"no cached tokens). Steps with a negative residual (clamped to 0): {clamped}. Details: hfcb_report.json.",
    ]
    fields = {
        "gpu": gpu, "gpu_driver": driver, "engine": ENGINE_NAME, "engine_version": versions["transformers"],
        "attention_backend": ATTENTION_BACKEND, "dtype": DTYPE, "cuda_graphs": True, "model": MODEL,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": METHOD, "grid": grid_text(plan), "source": "measured", "tp": 1,
    }
    with open(os.path.join(args.out, "provenance.yaml"), "w") as f:
        f.write(provenance_yaml(fields, [c for c in comments if c]))
    log(f"bundle written to {args.out} ({len(steps)} engine steps, {len(rows)} cpu rows)")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except ProfileError as e:
        print(f"profile_hfcb: error: {e}", file=sys.stderr, flush=True)
        return 1
    elapsed = time.perf_counter() - _T0
    limit = 90 if args.quick else 300
    if elapsed > limit:
        log(f"WARNING: took {elapsed:.0f} s, over the {limit} s budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
