"""Re-derive an hfcb profile bundle's CPU and graph-capture tables from its own recorded calibration steps.

Usage: python3 rederive_hfcb.py DIR [--fresh-runs RUN.json...] [--restart-runs RUN.json|PROTOCOL.jsonl...]

profile_hfcb.py keeps every engine step it measured in DIR/hfcb_calibration.csv. When the
way the CPU table is derived from those steps changes, this script applies the current
derivation (profile_hfcb's pure functions) to the recorded steps and the bundle's own
kernel tables, and rewrites DIR/cpu_overheads.csv, DIR/graph_capture.csv, the derived fields of
DIR/hfcb_report.json and the method in DIR/provenance.yaml. Nothing is measured anew and
the kernel tables are untouched; provenance.yaml says the table was re-derived and when.

--fresh-runs adds recorded runs of fresh engine processes (simval real --fresh-process
--warmup none on calibration traces of several requests, never catalog scenarios) to the
fresh processes the graph_capture.csv first/variant rows come from; they are kept in
hfcb_report.json (fresh_process_runs) so later re-derivations keep them.

--restart-runs adds restarted engine processes (started from the directory an earlier
process of the same engine ran from, so the CUDA driver's JIT cache holds its compiled
kernels: scripts/gpu-restart-probe.sh), as simval real runs or raw driver protocol
lines; their first steps are graph_capture.csv's restart rows (restart_process_runs).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys

import hfcb_capture_model as cap
import hfcb_bundle_writers as bw
import hfcb_profile_model as ph

INT_FIELDS = ("n_req", "decodes", "prefills", "q_tokens", "kv_read")
MS_FIELDS = ("wall_ms", "launch_ms", "wait_ms", "sched_ms", "prep_ms", "kwargs_ms", "update_ms")


def read_steps(path: str) -> list:
    """Steps as profile_hfcb.assemble_steps makes them, from hfcb_calibration.csv. Its
    wall_ms already includes the loop's gap, so steps re-derive with loop_ms 0."""
    steps = []
    for i, r in enumerate(ph.read_csv_rows(path), start=2):
        try:
            s = {f: int(float(r[f])) for f in INT_FIELDS}
            s.update({f: float(r[f]) for f in MS_FIELDS})
        except (KeyError, ValueError) as e:
            raise ph.ProfileError(f"{path}: line {i}: {e}") from e
        s["capture"] = r["capture"] == "True"
        s["phase"] = r["phase"] or None
        s["start"] = float(i)  # file order is step order
        if r.get("graph_key"):
            s["graph_key"] = tuple(int(v) for v in r["graph_key"].split("x"))
        steps.append(s)
    return steps


def derive(steps: list, km, eng: dict, plan: dict) -> dict:
    """The CPU table, its slope and the checks, from steps (loop gap already in wall)."""
    slope = ph.kv_slope(ph.slope_points(steps, km, 0.0, eng, plan["quick"]))
    use = {"decode": {"decode"}, "decode2": {"decode"}, "prefill": {"prefill"}, "mixed": {"mixed"}}
    planned = ({(b, b) for b in plan["decode_b"]} | {(1, n) for n in plan["prefill_n"]}
               | {(b + 1, b + n) for b in plan["mixed_b"] for n in plan["mixed_n"]})
    rows, clamped = ph.cpu_rows(steps, km, 0.0, use, planned, eng=eng, slope=slope)
    pts = {(r["batch_size"], r["num_tokens"]): r["cpu"] for r in rows}
    checks = []
    for r in rows:
        if r["batch_size"] > 1 and r["num_tokens"] > r["batch_size"]:
            pred = ph.separable(pts, r["batch_size"], r["num_tokens"])
            total = pred + slope * r["kv"] + max(r["kernel"], r["launch"])
            checks.append({"batch_size": r["batch_size"], "num_tokens": r["num_tokens"], "measured_cpu_ms": r["cpu"],
                           "separable_cpu_ms": pred, "wall_ms": r["wall"], "wall_error": (total - r["wall"]) / r["wall"]})
    longctx = []
    for s in steps:
        if s.get("phase") == "longctx" and ph.classify(s) == "decode" and not s["capture"]:
            k = ph.KernelModel.kernel_ms(km, s["q_tokens"], s["kv_read"], **eng)
            pred = ph.separable(pts, s["n_req"], s["q_tokens"]) + slope * s["kv_read"] + max(k, s["launch_ms"])
            longctx.append({"batch_size": s["n_req"], "kv_read": s["kv_read"], "wall_ms": s["wall_ms"],
                            "predicted_ms": pred, "error": (pred - s["wall_ms"]) / s["wall_ms"]})
    return {"slope": slope, "rows": rows, "clamped": clamped, "checks": checks, "longctx": longctx}


def read_run(path: str) -> dict:
    """A recorded run: simval real's JSON, or a driver's raw protocol lines (.jsonl), whose
    step lines make one repetition."""
    if not path.endswith(".jsonl"):
        with open(path) as f:
            return json.load(f)
    steps, meta = [], {}
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                rec = json.loads(line)
                if rec.get("type") == "step":
                    steps.append(rec)
                elif rec.get("type") == "meta":
                    meta = rec
    if not steps:
        raise ph.ProfileError(f"{path}: no step lines (was the driver run with --steps?)")
    return {"scenario": "trace:" + os.path.basename(path), "recorded_at": meta.get("t0_unix", ""),
            "repetitions": [{"steps": steps}]}


def rederive(directory: str, fresh_runs: list = (), restart_runs: list = ()) -> dict:
    report_path = os.path.join(directory, "hfcb_report.json")
    with open(report_path) as f:
        report = json.load(f)
    restarts = report.setdefault("restart_process_runs", {})
    for path in restart_runs:
        run = read_run(path)
        restarts[os.path.basename(path)] = {"scenario": run["scenario"], "processes": cap.fresh_steps_from_run(run)}
    runs = report.setdefault("fresh_process_runs", {})
    for path in fresh_runs:
        with open(path) as f:
            run = json.load(f)
        if run.get("scenario", "").startswith("trace:") is False:
            raise ph.ProfileError(f"{path}: a run of scenario {run.get('scenario')!r}; calibration takes traces only")
        runs[os.path.basename(path)] = {"scenario": run["scenario"], "recorded_at": run["recorded_at"],
                                        "processes": cap.fresh_steps_from_run(run)}
    eng = ph.engine_settings(report["engine_resolved"])
    km = ph.load_bundle(directory)["kernel"]
    d = derive(read_steps(os.path.join(directory, "hfcb_calibration.csv")), km, eng, ph.make_plan(report["quick"]))
    bw.write_csv(os.path.join(directory, "cpu_overheads.csv"), bw.CPU_HEADER, bw.cpu_csv_rows(d["rows"], d["slope"]))
    # The first/variant rows come from processes started the way judged cold runs start
    # them (simval real --fresh-process: each in a new directory, so the CUDA driver's
    # JIT cache never holds their kernels). The profiler's --fresh-only children
    # (fresh_process_steps, kept for reference) all run from one directory, so after the
    # first of each kernel variant they are restarts (first steps 0.35-0.52 s in 4 of 6,
    # a 0.1 s variant change; scripts/gpu-cache-probe.sh).
    fresh = []
    for name in sorted(runs):
        fresh += runs[name]["processes"]
    restart = []
    for name in sorted(restarts):
        restart += restarts[name]["processes"]
    d["capture"] = cap.capture_rows(read_steps(os.path.join(directory, "hfcb_calibration.csv")),
                                   ph.load_bundle(directory), eng, fresh, restart)
    bw.write_csv(os.path.join(directory, "graph_capture.csv"), cap.CAPTURE_HEADER, d["capture"])
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    report.update({"cpu_per_kv_token_ms": d["slope"], "cpu_rows_clamped_steps": d["clamped"],
                   "separable_checks": d["checks"], "longctx_decode_checks": d["longctx"],
                   "graph_capture": d["capture"],
                   "rederived": {"at": when, "by": "rederive_hfcb.py", "slope_phases": list(ph.SLOPE_PHASES)}})
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1, default=str)
        f.write("\n")
    prov_path = os.path.join(directory, "provenance.yaml")
    with open(prov_path) as f:
        prov = f.read()
    prov = re.sub(r"^# CPU/overhead per cached token read: [0-9.]+ us",
                  f"# CPU/overhead per cached token read: {d['slope'] * 1e3:.4f} us", prov, flags=re.M)
    prov = re.sub(r"^method: .*$", "method: " + bw._yaml_scalar(bw.METHOD).replace("\\", "\\\\"), prov, flags=re.M)
    # One note per derivation kind, the latest: earlier re-derivation notes are replaced.
    prov = re.sub(r"^# (cpu_overheads\.csv re-derived|graph_capture\.csv first/second rows|graph_capture\.csv re-derived).*\n",
                  "", prov, flags=re.M)
    note = (f"# cpu_overheads.csv re-derived {when} by rederive_hfcb.py from this bundle's hfcb_calibration.csv "
            f"and kernel tables (nothing re-measured): cached-token slope fitted within batch sizes and padded shapes over "
            f"{', '.join(ph.SLOPE_PHASES)} decode steps.\n"
            f"# graph_capture.csv re-derived {when}: first/variant rows from {len(fresh)} fresh engine processes "
            f"started by simval real (hfcb_report.json fresh_process_runs), restart rows from {len(restart)} "
            f"restarted processes (restart_process_runs); the other rows from hfcb_calibration.csv.\n")
    first_key = re.search(r"^[a-z_]+:", prov, flags=re.M).start()
    prov = prov[:first_key] + note + prov[first_key:]
    with open(prov_path, "w") as f:
        f.write(prov)
    return d


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("directory", help="the profile bundle to re-derive in place")
    p.add_argument("--fresh-runs", nargs="+", default=[], metavar="RUN.json",
                   help="recorded runs of fresh engine processes (first/variant rows)")
    p.add_argument("--restart-runs", nargs="+", default=[], metavar="RUN",
                   help="restarted engine processes: simval real runs or raw protocol lines (restart rows)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        d = rederive(args.directory, args.fresh_runs, args.restart_runs)
    except ph.ProfileError as e:
        print(f"rederive_hfcb: error: {e}", file=sys.stderr)
        return 1
    errs = [c["error"] for c in d["longctx"]]
    print(f"slope {d['slope'] * 1e3:.4f} us per cached token; {len(d['rows'])} cpu rows; "
          f"{len(d['capture'])} graph-capture rows; long-context checks "
          f"{len(errs)} steps, error {min(errs, default=0):+.3f}..{max(errs, default=0):+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
