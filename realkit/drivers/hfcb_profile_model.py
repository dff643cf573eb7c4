"""Pure part of the hfcb profiler: engine constants, the profiling plan, interpolation,
the kernel model, step reconstruction from timing events and the CPU-table derivation
(graph-capture costs: hfcb_capture_model.py; the files: hfcb_bundle_writers.py). No
torch, no GPU: unit-tested by test_profile_hfcb.py.
"""

from __future__ import annotations

import csv
import math
import os
import statistics
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


def engine_settings(resolved: dict) -> dict:
    """predict_step_ms's engine keywords from the settings the engine resolved
    (hfcb_report.json engine_resolved)."""
    return {"budget": resolved["max_batch_tokens"], "max_reqs": resolved["max_requests_per_batch"],
            "num_pages": resolved["num_pages"]}


def load_kernel_model(directory: str) -> KernelModel:
    """The kernel model of a bundle's mlp.csv and attention.csv."""
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
    return KernelModel(tokens, op_ms, qs, kvs, grid)


def load_bundle(directory: str) -> dict:
    """Read a bundle this profiler wrote (or the simkit fixture) back: the kernel model,
    the cpu and launch points keyed (batch_size, num_tokens) and the per-cached-token
    slope. For offline checks; simkit's LoadHFCBPredictor is the real consumer."""
    cpu, launch, slopes = {}, {}, set()
    for r in read_csv_rows(os.path.join(directory, "cpu_overheads.csv")):
        key = (int(float(r["batch_size"])), int(float(r["num_tokens"])))
        cpu[key] = float(r["cpu_total_median"])
        if r.get("launch_median", "") != "":
            launch[key] = float(r["launch_median"])
        slopes.add(float(r.get("cpu_per_kv_token_ms") or 0))
    if len(slopes) > 1:
        raise ProfileError(f"{directory}/cpu_overheads.csv: cpu_per_kv_token_ms differs between rows: {sorted(slopes)}")
    return {"kernel": load_kernel_model(directory), "cpu": cpu, "launch": launch,
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
    read, within groups: points are (group, kv_read, residual), and each group keeps its
    own intercept, so the slope comes only from how the residual moves with the cached
    tokens inside a group. slope_points groups by batch size and padded shape: at one
    padded shape the CUDA graph replays the same kernels, so the residual's change is host
    work (the engine builds its read indices every step, one per cached token); across
    shapes it would also carry the kernel tables' error at each shape."""
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
    """kv_slope's points: (group, cached tokens read, residual) of the warm decode-only
    steps of SLOPE_PHASES, grouped by (batch size, padded query tokens, padded cached
    tokens); group[0] is the batch size."""
    phases = SLOPE_PHASES + (("prefill",) if quick else ())  # quick plans have no long contexts
    return [(slope_group(s, eng), s["kv_read"], residual_ms(s, kernel, loop_ms, eng)) for s in steps
            if s.get("phase") in phases and classify(s) == "decode" and not s["capture"]]


def slope_group(step: dict, eng: dict | None) -> tuple:
    """(batch size, padded query tokens, padded cached tokens) of a step.

    Why not the batch size alone: the H200 profile of 2026-12-01 grouped batch 32's decodes
    at 16,384 padded cached tokens with its long-context decodes at 65,536, whose residual
    carries the attention table's error there; the slope came out 0.098 us per token where
    the same steps grouped by shape give 0.155, and a separate calibration trace of waves
    at a fixed batch and shape (dev/kv-ladder) measured 0.158 (scripts/gpu-kv-ladder.sh)."""
    q, kv, _ = padded_shape(step["q_tokens"], step["kv_read"], **(eng or {}))
    return step["n_req"], q, kv


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
