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

The pure parts live in hfcb_profile_model.py (plan, kernel model, step reconstruction,
CPU table), hfcb_capture_model.py (graph-capture costs) and hfcb_bundle_writers.py (the
files), all unit-tested without a GPU by test_profile_hfcb.py; the kernel microbenchmarks
are in hfcb_profile_bench.py, fresh engine processes and `--check` in
hfcb_profile_fresh.py. Any failed step exits nonzero; nothing falls back silently.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import statistics
import sys
import time

from hfcb_bundle_writers import CPU_HEADER, METHOD, attention_rows, cpu_csv_rows, mlp_rows, provenance_yaml, write_csv
from hfcb_profile_model import (
    ATTENTION_BACKEND, DTYPE, ENGINE_NAME, KernelModel, MLP_OPS, MODEL, OutOfGrid, ProfileError, _T0, admission_ms,
    assemble_steps, classify, cpu_rows, engine_settings, grid_text, kv_slope, load_bundle, log, loop_overhead_ms,
    make_plan, separable, slope_points,
)
from hfcb_capture_model import CAPTURE_HEADER, capture_rows
from hfcb_profile_bench import bench_attention, bench_ops, build_model, nvidia_smi
from hfcb_profile_fresh import check, fresh_only, fresh_process_steps, unaligned_mask_only
from replay import host_cpu

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
        io = bp.inputs_and_outputs
        self.rec.wrap(io, "get_graph", "graph", lambda g: (g is None, tuple(io._get_graph_key())))
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

    def capture():
        # New graph keys on purpose: lone prefills, then prefills beside running decodes,
        # at query lengths no other phase uses; each step's first run captures.
        for n in plan["capture_prefill_n"]:
            engine.wait([engine.submit(n, 2)])
            time.sleep(0.05)
        dec = [engine.submit(8, 4000) for _ in range(plan["capture_mixed_b"])]
        time.sleep(0.3)
        for n in plan["capture_mixed_n"]:
            engine.wait([engine.submit(n, 1)])
            time.sleep(0.12)
        engine.cancel(dec)
        time.sleep(0.3)
        log("graph-capture steps done")

    engine.wait([engine.submit(16, 4)])  # first request: engine warm-up
    engine.phase("prefill", prefill)
    # Decode runs twice, in opposite orders (full plan): the engine's CPU-side costs drift
    # between slower and faster stretches, and the two passes show by how much.
    engine.phase("decode", decode(plan["decode_b"]))
    if not plan["quick"]:
        engine.phase("decode2", decode(list(reversed(plan["decode_b"]))))
    engine.phase("mixed", mixed)
    engine.phase("longctx", longctx)
    engine.phase("capture", capture)


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

# The model spec the bundle is for (MODEL holds one rank's shapes under --rank-of-tp).
FULL_MODEL: dict = {}

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=None, help="bundle directory to write (created); required unless --check")
    p.add_argument("--target", required=True, help="the simval target this profile is for, e.g. h200-hfcb-qwen3-0.6b")
    p.add_argument("--quick", action="store_true", help="small grids (≤ 90 s on an H200), for smoke tests")
    p.add_argument("--check", metavar="BUNDLE", default=None,
                   help="re-measure the anchor shapes on this GPU and report the drift against BUNDLE's calibration "
                        "(nothing is written but --out/check.json)")
    p.add_argument("--unaligned-mask-only", action="store_true",
                   help="measure only the attention grid with an unaligned mask row stride into the bundle in --out "
                        "(attention_unaligned_mask.csv)")
    p.add_argument("--fresh-only", action="store_true",
                   help="measure only fresh engine processes and rewrite the graph_capture.csv of the bundle in --out")
    p.add_argument("--rank-of-tp", type=int, default=1, metavar="N",
                   help="measure one rank of a tensor-parallel N engine on this one GPU: the model's query and key/value "
                        "heads, intermediate size and LM-head rows divided by N (transformers' TP plan: q/k/v/gate/up "
                        "colwise, o/down rowwise, lm_head colwise_rep); the all-reduces are not in these tables "
                        "(hfcb_profile_allreduce.py), nor is TP's host work in the CPU table")
    args = p.parse_args(argv)
    if args.rank_of_tp < 1:
        p.error(f"--rank-of-tp {args.rank_of_tp}: want at least 1")
    if args.out is None and not args.check:
        p.error("--out is required")
    return args


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
        # Before this process takes the GPU's memory: each run is a whole engine process.
        # One rank's tables (--rank-of-tp) need no engine here: the TP engine's own runs give
        # its CPU, capture and first-use rows.
        stage = "first steps of fresh engine processes"
        fresh = fresh_process_steps(plan["fresh_prompts"], plan["fresh_runs"]) if args.rank_of_tp == 1 else []
        stage = "building the model"
        model = build_model()
        log("model built")
        with torch.no_grad():
            stage = "kernel microbenchmarks (ops)"
            op_samples = bench_ops(model, plan)
            stage = "kernel microbenchmarks (attention)"
            attn_samples, sdpa_kernels = bench_attention(model, plan)
        log(f"SDPA kernels: {sdpa_kernels}")
        if args.rank_of_tp > 1:
            stage = "writing one rank's kernel tables"
            write_rank_tables(args, plan, gpu, driver, versions, op_samples, attn_samples, sdpa_kernels)
            return
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
        engine.fresh = fresh
        stage = "assembling the bundle"
        write_bundle(args, plan, gpu, driver, versions, resolved, km, op_samples, attn_samples, sdpa_kernels,
                     engine, prof)
    except ProfileError:
        raise
    except Exception as e:  # every failure names its stage
        raise ProfileError(f"{stage}: {type(e).__name__}: {e}") from e


def write_rank_tables(args, plan, gpu, driver, versions, op_samples, attn_samples, sdpa_kernels) -> None:
    """mlp.csv and attention.csv of one rank of a tensor-parallel engine, and
    rank_tables.json (what they were measured on). Not a bundle: its CPU, capture and
    all-reduce tables come from the TP engine's runs."""
    header, mrows = mlp_rows(plan["tokens"], op_samples)
    write_csv(os.path.join(args.out, "mlp.csv"), header, mrows)
    header, arows = attention_rows(plan["attn_q"], plan["attn_kv"], attn_samples)
    write_csv(os.path.join(args.out, "attention.csv"), header, arows)
    meta = {"target": args.target, "tp": args.rank_of_tp, "model": FULL_MODEL, "rank_model": dict(MODEL), "gpu": gpu,
            "gpu_driver": driver, "host_cpu": host_cpu(), "versions": versions, "sdpa_kernels": sdpa_kernels,
            "grid": grid_text(plan), "elapsed_s": time.perf_counter() - _T0,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    with open(os.path.join(args.out, "rank_tables.json"), "w") as f:
        f.write(json.dumps(meta, indent=1) + "\n")
    log(f"one rank's kernel tables written to {args.out}")


def tag_steps(steps: list, phases: list) -> None:
    for s in steps:
        s["phase"] = next((label for label, t0, t1 in phases if t0 <= s["start"] <= t1), None)


def write_bundle(args, plan, gpu, driver, versions, resolved, km, op_samples, attn_samples, sdpa_kernels,
                 engine, prof) -> None:
    steps = assemble_steps(engine.rec.events)
    tag_steps(steps, engine.phases)
    loop_ms = loop_overhead_ms(steps)
    eng = engine_settings(resolved)
    if (eng["budget"], eng["max_reqs"]) != (8192, 1024):
        log(f"WARNING: engine resolved max_batch_tokens {eng['budget']} and max_requests_per_batch "
            f"{eng['max_reqs']}, not the H200's 8192 and 1024")
    # The CPU cost per cached token, within batch sizes and padded shapes, over the profiled contexts.
    b1 = [(x, y) for g, x, y in slope_points(steps, km, loop_ms, eng, True) if g[0] == 1]
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
    captures = capture_rows(steps, load_bundle(args.out), eng, getattr(engine, "fresh", []))
    write_csv(os.path.join(args.out, "graph_capture.csv"), CAPTURE_HEADER, captures)
    cal_header = ["phase", "kind", "n_req", "decodes", "prefills", "q_tokens", "kv_read", "q_pad", "kv_pad", "wall_ms",
                  "kernel_pred_ms", "launch_ms", "wait_ms", "sched_ms", "prep_ms", "kwargs_ms", "update_ms",
                  "capture", "graph_key"]
    cal = []
    for s in steps:
        try:
            k = km.parts(s["q_tokens"], s["kv_read"], **eng)
        except OutOfGrid:
            k = {"kernel_ms": math.nan, "q_pad": 0, "kv_pad": 0}
        cal.append({**{h: s.get(h) for h in cal_header if h in s}, "phase": s.get("phase") or "",
                    "kind": classify(s), "q_pad": k["q_pad"], "kv_pad": k["kv_pad"],
                    "wall_ms": s["wall_ms"] + loop_ms, "kernel_pred_ms": k["kernel_ms"] if math.isfinite(
                        k["kernel_ms"]) else "", "capture": s["capture"],
                    "graph_key": "x".join(str(v) for v in s["graph_key"]) if s.get("graph_key") else ""})
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
        "graph_capture": captures, "fresh_process_steps": getattr(engine, "fresh", []), "host_cpu": host_cpu(),
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
        "gpu": gpu, "gpu_driver": driver, "host_cpu": host_cpu(), "engine": ENGINE_NAME, "engine_version": versions["transformers"],
        "attention_backend": ATTENTION_BACKEND, "dtype": DTYPE, "cuda_graphs": True, "model": FULL_MODEL,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": METHOD, "grid": grid_text(plan), "source": "measured", "tp": args.rank_of_tp,
    }
    with open(os.path.join(args.out, "provenance.yaml"), "w") as f:
        f.write(provenance_yaml(fields, [c for c in comments if c]))
    log(f"bundle written to {args.out} ({len(steps)} engine steps, {len(rows)} cpu rows)")


def shard_model_for_rank(model: dict, tp: int) -> dict:
    """The full model spec, after model (MODEL, changed in place so that every module
    that imported it measures one rank's shapes) is divided by tp as one rank of
    transformers' TP plan holds it."""
    full = dict(model)
    if tp == 1:
        return full
    for key in ("q_heads", "kv_heads", "intermediate", "vocab"):
        if model[key] % tp:
            raise ProfileError(f"--rank-of-tp {tp}: the model's {key} ({model[key]}) is not divisible by {tp}")
        model[key] //= tp
    return full


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        FULL_MODEL.update(shard_model_for_rank(MODEL, args.rank_of_tp))
        if args.check:
            check(args, Engine)
            return 0
        if args.fresh_only:
            fresh_only(args)
            return 0
        if args.unaligned_mask_only:
            unaligned_mask_only(args)
            return 0
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
