"""Fresh engine processes for the hfcb profiler: their first steps (the first-use costs
of a cold start, graph_capture.csv's first and variant rows), `--fresh-only` (re-measure
only those into an existing bundle) and `--check` (re-measure anchor shapes and report
their drift against a committed bundle). GPU work; the pure part is in
hfcb_capture_model.py and hfcb_profile_model.py.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import rederive_hfcb
from hfcb_capture_model import CAPTURE_HEADER, capture_rows, kernel_variant
from hfcb_profile_bench import build_model, nvidia_smi
from hfcb_bundle_writers import write_csv
from hfcb_profile_model import (
    ProfileError, _T0, assemble_steps, classify, engine_settings, load_bundle, log, loop_overhead_ms, make_plan,
    predict_step_ms, read_csv_rows,
)
from replay import host_cpu


def fresh_process_steps(prompts: list, runs: int, timeout_s: float = 150.0) -> list:
    """The steps of freshly started engine processes, measured by the replay driver
    itself (hfcb_driver.py --warmup none --steps) on one-request traces (each prompt
    length in ``prompts``, 6 output tokens), ``runs`` processes per length. A cold start
    pays its first graph captures together with the process's first-use costs (kernel
    module loading, library handles and plans), which this process, warmed by the
    microbenchmarks, no longer shows. Returns one list of steps per process, in the
    shape assemble_steps gives (n_req, decodes, prefills, q_tokens, kv_read, wall_ms,
    capture, graph_key)."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for prompt in prompts:
            trace = os.path.join(tmp, f"fresh-{prompt}.jsonl")
            with open(trace, "w") as f:
                f.write(json.dumps({"id": "fresh", "arrival_s": 0.0, "prompt_tokens": prompt,
                                    "output_tokens": 6}) + "\n")
            for k in range(runs):
                # Each process from a directory of its own, as simval real --fresh-process
                # runs them: a process started from the directory of an earlier one finds
                # the kernels it compiled in the CUDA driver's JIT cache (a restart).
                own = tempfile.mkdtemp(dir=tmp)
                for name in os.listdir(here):
                    if name.endswith(".py"):
                        shutil.copy(os.path.join(here, name), own)
                cmd = [sys.executable, "-u", os.path.join(own, "hfcb_driver.py"), "--trace", trace, "--warmup",
                       "none", "--steps", "--repetitions", "1", "--seed", str(k)]
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=own)
                except subprocess.TimeoutExpired as e:
                    raise ProfileError(f"fresh engine process (prompt {prompt}): no result after {timeout_s:.0f} s") from e
                lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith('{"type":"step"')]
                timed = sorted((x for x in lines if not x.get("warmup")), key=lambda x: x["index"])
                if proc.returncode != 0 or not timed:
                    raise ProfileError(f"fresh engine process (prompt {prompt}): exit {proc.returncode}, "
                                       f"{len(timed)} steps; stderr tail: {proc.stderr[-600:]}")
                steps = []
                for x in timed:
                    items = x.get("items", [])
                    dec = sum(1 for it in items if it.get("decode"))
                    key = tuple(x[k] for k in ("q_pad", "kv_pad", "seqk_pad") if k in x)
                    steps.append({"n_req": len(items), "decodes": dec, "prefills": len(items) - dec,
                                  "q_tokens": x.get("q_tokens", 0), "kv_read": x.get("kv_read", 0),
                                  "wall_ms": x["duration_s"] * 1e3, "capture": bool(x.get("captured")),
                                  "graph_key": key, "prompt": prompt})
                out.append(steps)
                caps = [f"{st['wall_ms']:.0f}" for st in steps if st["capture"]]
                log(f"fresh engine process, prompt {prompt}: capture steps {', '.join(caps)} ms")
    return out


def fresh_only(args) -> None:
    """Re-measure the fresh-process steps into an existing bundle: its graph_capture.csv is
    rebuilt from its own calibration steps plus the new fresh processes; nothing else changes."""
    report_path = os.path.join(args.out, "hfcb_report.json")
    with open(report_path) as f:
        report = json.load(f)
    eng = engine_settings(report["engine_resolved"])
    plan = make_plan(args.quick)
    fresh = fresh_process_steps(plan["fresh_prompts"], plan["fresh_runs"])
    steps = rederive_hfcb.read_steps(os.path.join(args.out, "hfcb_calibration.csv"))
    captures = capture_rows(steps, load_bundle(args.out), eng, fresh)
    write_csv(os.path.join(args.out, "graph_capture.csv"), CAPTURE_HEADER, captures)
    gpu, driver = nvidia_smi()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    report.update({"graph_capture": captures, "fresh_process_steps": fresh,
                   "fresh_process_measured": {"at": when, "gpu": gpu, "gpu_driver": driver, "host_cpu": host_cpu(),
                                              "by": "profile_hfcb.py --fresh-only"}})
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1, default=str)
        f.write("\n")
    prov_path = os.path.join(args.out, "provenance.yaml")
    with open(prov_path) as f:
        prov = f.read()
    note = (f"# graph_capture.csv first/variant rows: fresh engine processes measured {when} on {gpu} "
            f"(driver {driver}, {host_cpu()}) by profile_hfcb.py --fresh-only; other rows from this bundle's "
            f"calibration steps.\n")
    first_key = prov.index("\ngpu:") + 1
    with open(prov_path, "w") as f:
        f.write(prov[:first_key] + note + prov[first_key:])
    log(f"graph_capture.csv rewritten: {len(captures)} rows, {len(fresh)} fresh processes")


# Anchor shapes of `--check`: (kind, batch size, query tokens per request). Decode steps
# at three batch sizes and two lone prefills: together they cover the CPU-bound and the
# GPU-bound ends of the step-time tables, in under a minute.
CHECK_ANCHORS = [("decode", 1, 1), ("decode", 8, 1), ("decode", 32, 1), ("prefill", 1, 512), ("prefill", 1, 2048)]
CHECK_STEPS = 30  # decode tokens per anchor; prefills are repeated 4 times


def check(args, engine_cls) -> None:
    """Re-measure CHECK_ANCHORS on a warm engine (engine_cls: profile_hfcb.Engine) and
    report each one's median step wall against the committed bundle's calibration steps
    of the same shape."""
    cal = rederive_hfcb.read_steps(os.path.join(args.check, "hfcb_calibration.csv"))
    model = build_model()
    engine = engine_cls(model)
    engine.wait([engine.submit(16, 4)])
    for kind, b, q in CHECK_ANCHORS:  # first pass: capture every anchor's graphs
        engine.wait([engine.submit(q if kind == "prefill" else 8, 3) for _ in range(b)])
    n0 = len(engine.rec.events)
    for kind, b, q in CHECK_ANCHORS:
        if kind == "prefill":
            for _ in range(4):
                engine.wait([engine.submit(q, 2)])
        else:
            engine.wait([engine.submit(8, CHECK_STEPS) for _ in range(b)])
    engine.stop()
    steps = [s for s in assemble_steps(engine.rec.events[n0:]) if not s["capture"]]
    loop_ms = loop_overhead_ms(steps)
    # This process started fresh: its first steps, with their phases, show where the
    # first-use costs of an engine process go (schedule, input preparation, graph
    # launch or capture, device wait, output update).
    keep = ("n_req", "decodes", "prefills", "q_tokens", "kv_read", "wall_ms", "capture", "graph_key", "sched_ms",
            "prep_ms", "tensors_ms", "kwargs_ms", "launch_ms", "wait_ms", "update_ms")
    first_steps = [{k: s.get(k) for k in keep} for s in assemble_steps(engine.rec.events[:n0])[:16]]
    rows = []
    for kind, b, q in CHECK_ANCHORS:
        def same(s):
            return classify(s) == kind and s["n_req"] == b and s["q_tokens"] == b * q
        now = [s["wall_ms"] + loop_ms for s in steps if same(s)]
        then = [s["wall_ms"] for s in cal if same(s) and not s["capture"] and s.get("phase") in ("decode", "decode2", "prefill")]
        if not now or not then:
            rows.append({"kind": kind, "batch_size": b, "q_tokens": b * q, "note": "no step of this shape measured"})
            continue
        m_now, m_then = statistics.median(now), statistics.median(then)
        rows.append({"kind": kind, "batch_size": b, "q_tokens": b * q, "profile_ms": m_then, "now_ms": m_now,
                     "drift": (m_now - m_then) / m_then, "steps_now": len(now), "steps_profile": len(then)})
    gpu, driver = nvidia_smi()
    out = {"bundle": args.check, "gpu": gpu, "gpu_driver": driver, "host_cpu": host_cpu(), "anchors": rows,
           "fresh_process_first_steps": first_steps, "elapsed_s": time.perf_counter() - _T0}
    first_use = first_use_check(args.check, assemble_steps(engine.rec.events[:n0]))
    if first_use:
        out["first_use"] = first_use
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "check.json"), "w") as f:
            f.write(text + "\n")
    for r in rows:
        if "drift" in r:
            log(f"{r['kind']} batch {r['batch_size']} q {r['q_tokens']}: profile {r['profile_ms']:.2f} ms, "
                f"now {r['now_ms']:.2f} ms, drift {100 * r['drift']:+.1f}%")




def first_use_check(bundle_dir: str, steps: list) -> dict:
    """This process's own first-use costs against the bundle's: the check's engine is a
    fresh process in a directory of its own (a cold JIT cache), so its first step pays
    the first row's costs and its first capture of the other attention kernel variant
    the variant row's. Those costs are host-side compilation and differ between machines
    (0.9-1.25 s on most H200 leases, 1.4-2.0 s on one); ratio is (first + variant) now
    over the bundle's medians of the same: one process's factor (other processes on the
    same machine have differed by 1.7x from it). {} when the bundle has no first/variant
    rows or the steps lack them."""
    rows = read_csv_rows(os.path.join(bundle_dir, "graph_capture.csv"))
    med = {k: statistics.median([float(r["capture_ms"]) for r in rows if r["kind"] == k] or [0.0])
           for k in ("first", "variant")}
    caps = [s for s in steps if s["capture"] and s.get("graph_key")]
    if not caps or not med["first"] or not med["variant"]:
        return {}
    with open(os.path.join(bundle_dir, "hfcb_report.json")) as f:
        eng = engine_settings(json.load(f)["engine_resolved"])
    bundle = load_bundle(bundle_dir)

    def extra(s):
        return s["wall_ms"] - predict_step_ms(bundle, s["n_req"], s["q_tokens"], s["kv_read"], **eng)

    first = caps[0]
    other = next((s for s in caps[1:] if kernel_variant(s["graph_key"][0]) != kernel_variant(first["graph_key"][0])),
                 None)
    if other is None:
        return {}
    now = {"first": extra(first), "variant": extra(other)}
    return {"first_ms": now["first"], "variant_ms": now["variant"], "profile_first_ms": med["first"],
            "profile_variant_ms": med["variant"],
            "ratio": (now["first"] + now["variant"]) / (med["first"] + med["variant"])}


# An odd mask row stride for --unaligned-mask-only: larger than any key length of the
# grid, and not a multiple of 8 bf16 elements, so no row of the mask is 16-byte aligned
# but the first (what the engine's buffer gives when num_pages + max_batch_tokens is odd).
UNALIGNED_MASK_STRIDE = 978688 + 8192 + 1


def unaligned_mask_only(args) -> None:
    """Measure the attention grid again with an unaligned mask row stride into an existing
    bundle: attention_unaligned_mask.csv (attention.csv's layout). transformers 5.17's
    varlen attention mask is a view of a [max_batch_tokens, num_pages + max_batch_tokens]
    buffer; when that row length is not a multiple of 8 (num_blocks fixed and
    max_batch_tokens inferred from free memory, e.g. 24 blocks: 6144 + 145379), cuDNN's
    SDPA runs 38-45% slower per layer at the same shape (hfcb_mask_stride_probe.py)."""
    from hfcb_bundle_writers import attention_rows
    from hfcb_profile_bench import bench_attention

    plan = dict(make_plan(args.quick), mask_stride=UNALIGNED_MASK_STRIDE)
    model = build_model()
    samples, kernels = bench_attention(model, plan)
    header, rows = attention_rows(plan["attn_q"], plan["attn_kv"], samples)
    write_csv(os.path.join(args.out, "attention_unaligned_mask.csv"), header, rows)
    report_path = os.path.join(args.out, "hfcb_report.json")
    with open(report_path) as f:
        report = json.load(f)
    gpu, driver = nvidia_smi()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    report["unaligned_mask_attention"] = {"at": when, "gpu": gpu, "gpu_driver": driver, "host_cpu": host_cpu(),
                                          "mask_row_stride": UNALIGNED_MASK_STRIDE, "sdpa_kernels": kernels,
                                          "by": "profile_hfcb.py --unaligned-mask-only"}
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1, default=str)
        f.write("\n")
    log(f"attention_unaligned_mask.csv written: {len(rows)} rows, mask row stride {UNALIGNED_MASK_STRIDE}")
