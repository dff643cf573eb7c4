"""Build the profile bundle of a tensor-parallel hfcb target from its measurements (no
GPU): one rank's kernel tables (profile_hfcb.py --rank-of-tp N), the all-reduce table
(hfcb_profile_allreduce.py), and runs of the real TP engine (simval real, step traces):
the calibration trace (scripts/make-calibration-trace.py; warm-up replay, so its timed
steps are warm) and fresh processes of development traces.

Why from runs: the profiler's calibration engine is one in-process manager on one GPU,
and a TP engine's ranks must run the replay driver under torch.distributed.run. The
derivation is the profiler's own (hfcb_profile_model.cpu_rows, kv_slope,
hfcb_capture_model.capture_rows), with two TP facts:

- A step's kernel time is one rank's tables plus its collectives: 2 all-reduces per
  layer of the step's padded activations (query tokens padded to 64 × hidden × dtype
  bytes), from all_reduce.csv; simkit's hfcb predictor adds the same (StepTime.CommS).
- An idle TP engine admits a request only at its follower ranks' next idle poll.
  transformers 5.17's generation loop waits ``_has_new_requests.wait(timeout=0.1)``
  when it has no batch; ``add_request`` sets that event on the driver rank only, and
  every loop iteration meets the other ranks in a collective (tp_all_reduce_state), so
  a request that reaches an idle engine waits for the followers' next 100 ms timeout:
  the ticks fall at (end of the last step) + k × period. The period (100 ms plus one idle
  iteration) is measured here from the calibration run's admissions
  (idle_poll.csv) and the waits are taken out of the steps before their CPU residuals
  are computed. On one GPU the driver wakes at once (0.2-0.5 ms).

Usage: hfcb_tp_bundle.py TARGET_DIR
  reads TARGET_DIR/measured/ (mlp.csv, attention.csv, rank_tables.json,
  all_reduce.csv, all_reduce_provenance.json), the calibration runs dev/calibration*.json
  and the fresh runs dev/cold-*.json; writes TARGET_DIR/profile/. The idle poll comes from
  every calibration run; the CPU and capture tables from those recorded without
  --step-phases where there are any (its per-step memory_stats() calls cost CPU time that
  an uninstrumented engine does not spend), else from all.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os
import shutil
import statistics
import sys

import hfcb_bundle_writers as bw
import hfcb_capture_model as cap
import hfcb_profile_model as ph

# A gap between two steps longer than this is idle time (the busy loop's gap is < 1 ms).
IDLE_GAP_S = 0.005
# The generation loop's idle wait (continuous_api.py, _inner_generation_loop).
IDLE_WAIT_S = 0.1
IDLE_POLL_HEADER = ["tp", "period_ms", "samples", "min_ms", "max_ms"]


class TPKernelModel(ph.KernelModel):
    """One rank's kernel tables plus the step's all-reduces."""

    def __init__(self, base: ph.KernelModel, all_reduce: list, hidden: int, elem_bytes: int, layers: int):
        super().__init__(base.tokens, base.op_ms, base.attn_q, base.attn_kv, base.attn_ms, layers)
        self.ar_bytes = [b for b, _ in all_reduce]
        self.ar_ms = [ms for _, ms in all_reduce]
        self.bytes_per_token = hidden * elem_bytes

    def parts(self, q_tokens: int, kv_read: int, **kw) -> dict:
        p = super().parts(q_tokens, kv_read, **kw)
        comm = self.layers * 2 * ph.interp1(self.ar_bytes, self.ar_ms, p["q_pad"] * self.bytes_per_token,
                                            "all_reduce.csv", "size")
        p["comm_ms"] = comm
        p["kernel_ms"] += comm
        return p


def read_all_reduce(path: str) -> list:
    """(size in bytes, median ms) rows of all_reduce.csv, by size."""
    rows = sorted((float(r["size"]), float(r["time_stats.all_reduce.median"])) for r in ph.read_csv_rows(path))
    if not rows:
        raise ph.ProfileError(f"{path}: no rows")
    return rows


def idle_admissions(reps: list) -> list:
    """(idle waits k, wait in s) per step that started an idle engine: the wait from the
    end of the last step to the first scheduling of the step's requests (first_scheduled_s:
    their batch was formed once the followers met the driver), and the number of idle
    waits that fit in it (the nearest whole number of IDLE_WAIT_S)."""
    out = []
    for rep in reps:
        sched = {r["id"]: r["first_scheduled_s"] for r in rep.get("records") or []
                 if r.get("first_scheduled_s") is not None}
        steps = sorted((s for s in rep.get("steps") or [] if not s.get("warmup")), key=lambda s: s["start_s"])
        for prev, x in zip(steps, steps[1:]):
            idle_since = prev["start_s"] + prev["duration_s"]
            if x["start_s"] - idle_since <= IDLE_GAP_S:
                continue
            got = [sched[it["id"]] for it in x.get("items", []) if it["id"] in sched
                   and x["start_s"] <= sched[it["id"]] <= x["start_s"] + x["duration_s"]]
            if got:
                wait = min(got) - idle_since
                k = round(wait / IDLE_WAIT_S)
                if k >= 1:
                    out.append((k, wait))
    return out


def poll_period(admissions: list) -> float:
    """The idle poll's period: least squares of wait = k × period through the origin (a
    request is admitted at the k-th poll after the engine went idle)."""
    return sum(k * w for k, w in admissions) / sum(k * k for k, _ in admissions)


def tick_wait(start: float, idle_since: float, period: float) -> float:
    """The wait of a step that starts at an idle engine's first poll after start."""
    k = math.ceil((start - idle_since) / period - 1e-9)
    return max(0.0, idle_since + max(k, 1) * period - start)


def run_steps(run: dict, period: float, timed: bool = True) -> tuple:
    """Calibration steps (hfcb_profile_model's shape) of a recorded run's repetitions,
    with each step's idle-poll wait taken out of its wall time, and the busy loop's
    median gap between steps (ms). timed False takes the warm-up steps instead. A step
    that starts an idle engine waits until its requests are scheduled (their
    first_scheduled_s, where the repetition's records have it: timed steps) or, without
    records (a warm-up), until the poll after the last step (tick_wait); the first step
    of a repetition without records keeps its wait (its idle phase is unknown)."""
    steps, gaps = [], []
    for rep in run["repetitions"]:
        sched = {r["id"]: r["first_scheduled_s"] for r in rep.get("records") or []
                 if r.get("first_scheduled_s") is not None}
        raw = sorted((s for s in rep.get("steps") or [] if bool(s.get("warmup")) != timed),
                     key=lambda s: s["start_s"])
        prev_end = None
        for x in raw:
            items = x.get("items", [])
            dec = sum(1 for it in items if it.get("decode"))
            wall = x["duration_s"]
            idle = prev_end is None or x["start_s"] - prev_end > IDLE_GAP_S
            admitted = [sched[it["id"]] for it in items if it.get("prefill") and not it.get("past")
                        and it["id"] in sched and x["start_s"] <= sched[it["id"]] <= x["start_s"] + wall]
            if idle and admitted:
                wall -= min(admitted) - x["start_s"]
            elif idle and prev_end is not None:
                wall -= tick_wait(x["start_s"], prev_end, period)
            elif prev_end is not None:
                gaps.append((x["start_s"] - prev_end) * 1e3)
            ph_ = x.get("phases") or {}
            steps.append({
                "n_req": len(items), "decodes": dec, "prefills": len(items) - dec,
                "q_tokens": x.get("q_tokens", 0), "kv_read": x.get("kv_read", 0), "wall_ms": wall * 1e3,
                "launch_ms": 0.0 if x.get("captured") else ph_.get("compute_ms", 0.0),
                "wait_ms": ph_.get("update_ms", 0.0), "sched_ms": 0.0, "prep_ms": ph_.get("prepare_ms", 0.0),
                "kwargs_ms": 0.0, "update_ms": ph_.get("update_ms", 0.0), "capture": bool(x.get("captured")),
                "graph_key": tuple(x[k] for k in ("q_pad", "kv_pad", "seqk_pad") if k in x),
            })
            prev_end = x["start_s"] + x["duration_s"]
    loop_ms = statistics.median(gaps) if gaps else 0.0
    return steps, loop_ms


def with_budget_row(rows: list, budget: int) -> tuple:
    """rows with a single-prefill row at the token budget when the largest one measured is
    smaller: its CPU residual extrapolated linearly from the two largest (simkit's
    separable scheme needs batch-1 rows up to the budget; the first calibration trace's
    largest single prefill was 8000 tokens). Returns the rows and the added row's note."""
    singles = sorted((r for r in rows if r["batch_size"] == 1 and r["num_tokens"] > 1), key=lambda r: r["num_tokens"])
    if len(singles) < 2 or singles[-1]["num_tokens"] >= budget:
        return rows, ""
    a, b = singles[-2], singles[-1]
    per = (b["cpu"] - a["cpu"]) / (b["num_tokens"] - a["num_tokens"])
    row = dict(b, num_tokens=budget, count=0, cpu=b["cpu"] + per * (budget - b["num_tokens"]))
    note = (f"row (1, {budget}) extrapolated linearly from (1, {a['num_tokens']}) and (1, {b['num_tokens']}): "
            f"{row['cpu']:.3f} ms (no single prefill of the budget in the calibration trace)")
    return sorted(rows + [row], key=lambda r: (r["batch_size"], r["num_tokens"])), note


# Vidur's layout names the full model's shapes and the tensor-parallel degree beside one
# worker's times (simkit checks them against the bundle's model).
FULL_MODEL_COLUMNS = {"n_head": "q_heads", "n_q_head": "q_heads", "n_kv_head": "kv_heads", "n_embd": "hidden",
                      "n_expanded_embd": "intermediate", "vocab_size": "vocab"}
TP_COLUMNS = ("num_tensor_parallel_workers", "tensor_parallel_degree")


def rank_table_as_tp(src: str, dst: str, model: dict, tp: int) -> None:
    """Copy one rank's mlp.csv or attention.csv into the bundle's layout: the full model's
    shapes, tp workers. The profiler writes a rank's tables as it measured them, on one
    GPU: the rank's shapes, tensor parallelism 1."""
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for j, col in enumerate(header):
        value = str(tp) if col in TP_COLUMNS else (str(model[FULL_MODEL_COLUMNS[col]]) if col in FULL_MODEL_COLUMNS
                                                     else None)
        if value is not None:
            for r in rows[1:]:
                r[j] = value
    with open(dst, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def instrumented(run: dict) -> bool:
    """Whether a run was recorded with the driver's --step-phases (its steps carry phases)."""
    return any(s.get("phases") for rep in run["repetitions"] for s in rep.get("steps") or [])


def warm_captures(steps: list) -> list:
    """The warm-up's capture steps that pay a capture only: not the process's first step
    nor its first capture of the other attention kernel variant (first-use costs)."""
    out, variants = [], set()
    for s in steps:
        if not s["capture"]:
            continue
        v = cap.kernel_variant(s["graph_key"][0]) if s["graph_key"] else None
        if v not in variants:
            variants.add(v)
            continue
        out.append(s)
    return out


def build(target_dir: str) -> dict:
    # The target, its model and tp as the rank profile recorded them (profile_hfcb.py
    # --target ... --rank-of-tp N); every run must have resolved the same tp.
    measured = os.path.join(target_dir, "measured")
    with open(os.path.join(measured, "rank_tables.json")) as f:
        rank = json.load(f)
    target, model, tp = rank["target"], rank["model"], int(rank["tp"])
    out = os.path.join(target_dir, "profile")
    os.makedirs(out, exist_ok=True)
    for name in ("all_reduce.csv", "all_reduce_provenance.json"):
        shutil.copy(os.path.join(measured, name), os.path.join(out, name))
    for name in ("mlp.csv", "attention.csv"):
        rank_table_as_tp(os.path.join(measured, name), os.path.join(out, name), model, tp)
    runs = {}
    for path in sorted(glob.glob(os.path.join(target_dir, "dev", "calibration*.json"))):
        with open(path) as f:
            runs[os.path.basename(path)] = json.load(f)
    if not runs:
        raise ph.ProfileError(f"{target_dir}/dev: no calibration run (calibration*.json)")
    for name, r in runs.items():
        if r["target"] != target or r["meta"]["settings"]["tp"] != tp:
            raise ph.ProfileError(f"dev/{name}: a run of {r['target']} at tp {r['meta']['settings']['tp']}, "
                                  f"the rank tables are of {target} at tp {tp}")
    plain = {name: r for name, r in runs.items() if not instrumented(r)}
    used = plain or runs
    calib = {"meta": next(iter(used.values()))["meta"],
             "repetitions": [rep for r in used.values() for rep in r["repetitions"]]}
    resolved = calib["meta"]["engine_config"]["continuous_batching_config"]
    eng = {"budget": resolved["max_batch_tokens"], "max_reqs": resolved["max_requests_per_batch"],
           "num_pages": resolved["num_blocks"] * resolved["block_size"]}

    # The idle poll from the same runs: --step-phases wraps every prepare_next_batch, idle
    # ones included, so an instrumented run's driver rank idles longer per iteration.
    adm = idle_admissions([rep for r in used.values() for rep in r["repetitions"]])
    if len(adm) < 5:
        raise ph.ProfileError(f"calibration run: {len(adm)} admissions to an idle engine, need at least 5 "
                              "to measure the idle poll")
    period = poll_period(adm)
    ticks = [w / k for k, w in adm]
    bw.write_csv(os.path.join(out, "idle_poll.csv"), IDLE_POLL_HEADER,
                 [{"tp": tp, "period_ms": period * 1e3, "samples": len(adm), "min_ms": min(ticks) * 1e3,
                   "max_ms": max(ticks) * 1e3}])

    base = ph.load_kernel_model(out)
    km = TPKernelModel(base, read_all_reduce(os.path.join(out, "all_reduce.csv")), model["hidden"], 2,
                       model["layers"])
    steps, loop_ms = run_steps(calib, period)
    for s in steps:
        s["phase"] = ph.classify(s)
    decode_steps = [s for s in steps if s["phase"] == "decode" and not s["capture"]]
    slope = ph.kv_slope([(ph.slope_group(s, eng), s["kv_read"], ph.residual_ms(s, km, loop_ms, eng))
                         for s in decode_steps])
    use = {"decode": {"decode"}, "prefill": {"prefill"}, "mixed": {"mixed"}}
    # Every single prefill of the trace is a row (each appears once per repetition); other
    # shapes need two steps.
    planned = {(1, s["q_tokens"]) for s in steps if s["phase"] == "prefill"}
    rows, clamped = ph.cpu_rows(steps, km, loop_ms, use, planned, min_count=2, eng=eng, slope=slope)
    rows, extrapolated = with_budget_row(rows, eng["budget"])
    bw.write_csv(os.path.join(out, "cpu_overheads.csv"), bw.CPU_HEADER, bw.cpu_csv_rows(rows, slope, tp))

    warm, _ = run_steps(calib, period, timed=False)
    fresh = []
    for path in sorted(glob.glob(os.path.join(target_dir, "dev", "cold-*.json"))):
        with open(path) as f:
            run = json.load(f)
        for rep in run["repetitions"]:  # each a fresh process, no warm-up
            procs, _ = run_steps({"repetitions": [rep]}, period)
            if procs:
                fresh.append(procs)
    bundle = {"kernel": km, "cpu": {(r["batch_size"], r["num_tokens"]): r["cpu"] for r in rows}, "launch": {},
              "slope": slope}
    captures = cap.capture_rows(warm_captures(warm), bundle, eng, fresh)
    bw.write_csv(os.path.join(out, "graph_capture.csv"), cap.CAPTURE_HEADER, captures)

    comm = {n: km.parts(n, 0, **eng)["comm_ms"] for n in (1, 64, 512, 2048, 8192)}
    with open(os.path.join(measured, "all_reduce_provenance.json")) as f:
        link = json.load(f).get("interconnect", {}).get("summary", "")
    comments = [
        f"simval profile of target {target}: tensor parallel {tp}, built by "
        "realkit/drivers/hfcb_tp_bundle.py from measured/ and the TP engine's runs (nothing measured here).",
        f"Kernel tables: one rank (profile_hfcb.py --rank-of-tp {tp}, {rank['date']}); all_reduce.csv over {link}.",
        "Comm per step, 2 all-reduces x layers (ms): " + ", ".join(f"Q {n}: {v:.3f}" for n, v in comm.items()) + ".",
        f"Idle poll: {period * 1e3:.2f} ms ({len(adm)} admissions to an idle engine after 1-{max(k for k, _ in adm)} "
        f"polls, per poll {min(ticks) * 1e3:.2f}-{max(ticks) * 1e3:.2f}); the busy loop's gap {loop_ms:.3f} ms.",
        f"CPU/overhead per cached token read: {slope * 1e3:.4f} us; steps with a negative residual: {clamped}.",
        f"cpu_overheads.csv {extrapolated}." if extrapolated else "",
        f"cpu_overheads.csv: {len(rows)} rows from {sum(1 for s in steps if not s['capture'])} warm steps of "
        f"{', '.join('dev/' + n for n in used)}; graph_capture.csv: {len(captures)} rows, first/variant from {len(fresh)} fresh "
        "processes (dev/cold-*.json).",
    ]
    fields = {
        "gpu": rank["gpu"], "gpu_driver": rank["gpu_driver"], "host_cpu": calib["meta"].get("host_cpu", ""),
        "engine": "hfcb", "engine_version": rank["versions"]["transformers"], "attention_backend": "paged|sdpa",
        "dtype": "bf16", "cuda_graphs": True, "model": model,
        # The latest measurement's date, so that rebuilding from the same files writes the same bytes.
        "date": max([rank["date"]] + [r.get("recorded_at", "")[:19] + "Z" for r in runs.values()]),
        "method": METHOD, "grid": rank["grid"], "source": "measured", "tp": tp,
    }
    with open(os.path.join(out, "provenance.yaml"), "w") as f:
        f.write(bw.provenance_yaml(fields, [c for c in comments if c]))
    report = {"target": target, "tp": tp, "engine_resolved": {**resolved, "num_pages": eng["num_pages"]},
              "idle_admissions": adm, "idle_poll_s": period, "loop_overhead_ms": loop_ms, "cpu_per_kv_token_ms": slope,
              "cpu_rows_clamped_steps": clamped, "graph_capture": captures, "comm_ms_by_q": comm,
              "sdpa_kernels": rank["sdpa_kernels"], "rank_model": rank["rank_model"]}
    with open(os.path.join(out, "hfcb_report.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    return report


METHOD = (
    "Tensor parallel: kernel tables of one rank (the model's heads, intermediate size and LM-head rows divided by "
    "tp, measured as profile_hfcb.py measures them on one GPU); all_reduce.csv: all-reduces in CUDA graphs over "
    "the real interconnect at every padded step size (hfcb_profile_allreduce.py); a step's kernel time = one "
    "rank's tables + layers x 2 all-reduces of its padded activations. cpu_overheads.csv and graph_capture.csv: "
    "as the one-GPU profiler derives them (wall - max(kernel + comm, launch), separable in batch size and "
    "tokens, per-cached-token slope), from the warm timed steps of a calibration trace replayed through the real "
    "TP engine (simval real --warmup replay, step traces with --step-phases), each step's idle-poll wait taken "
    "out; first/variant rows from fresh TP processes of development traces. idle_poll.csv: the period at which "
    "an idle TP engine admits a request (its follower ranks' idle wait of 100 ms plus one idle iteration). "
    "Calibration workloads are synthetic, not the catalog's."
)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("target_dir")
    args = p.parse_args(argv)
    try:
        r = build(args.target_dir)
    except ph.ProfileError as e:
        print(f"hfcb_tp_bundle: error: {e}", file=sys.stderr)
        return 1
    print(f"idle poll {r['idle_poll_s'] * 1e3:.2f} ms, slope {r['cpu_per_kv_token_ms'] * 1e3:.4f} us "
          f"per cached token, {len(r['graph_capture'])} capture rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
