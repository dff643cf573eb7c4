#!/usr/bin/env python3
"""What an idle tensor-parallel hfcb engine did between its steps, from the idle-loop
logs of every rank (hfcb_driver.py --poll-log DIR: DIR/rank<N>.jsonl) and the run's
baseline file: for each admission to an idle engine, when the engine went idle, whether
the driver rank's first idle wait returned at once (a wake-up left pending by a request
that arrived while it was busy), when the driver rank drained the request (the start of
its prepare_next_batch that scheduled it), and the followers' polls around it. The
claims of simkit's pollTiming (simkit/HFCB.md, "The idle poll") are checked here, on the
development trace dev/idle-poll.jsonl; nothing in the catalog is read.

Usage: scripts/poll-log-report.py RUN.json POLL_LOG_DIR
"""

import json
import os
import statistics
import sys


def median_ms(values):
    return f"{1e3 * statistics.median(values):.2f} ms" if values else "none"


def load_events(folder, rank):
    with open(os.path.join(folder, f"rank{rank}.jsonl")) as f:
        return [json.loads(line) for line in f]


def main() -> int:
    run_path, folder = sys.argv[1], sys.argv[2]
    run = json.load(open(run_path))
    d = load_events(folder, 0)
    f = load_events(folder, 1)
    # The followers' idle polls: their prepare_next_batch calls that follow a timed-out wait.
    f_prep = [e for e in f if e["kind"] == "prepare"]
    f_starts = [e["t"] for e in f_prep]
    gaps = [b - a for a, b in zip(f_starts, f_starts[1:]) if 0.09 < b - a < 0.11]
    print(f"follower: {len(f_prep)} prepare calls; idle poll period {median_ms(gaps)} (median of {len(gaps)})")
    waits = [e for e in d if e["kind"] == "wait"]
    immediate = [e for e in waits if e["value"] and e["end"] - e["t"] < 0.001]
    timed_out = [e for e in waits if not e["value"]]
    print(f"driver rank: {len(waits)} waits: {len(timed_out)} timed out "
          f"({median_ms([e['end'] - e['t'] for e in timed_out])}), "
          f"{len(immediate)} returned at once (event already set)")
    d_prep = [e for e in d if e["kind"] == "prepare"]
    rows = []
    for rep in run["repetitions"]:
        t0 = rep["summary"]["t0_clock"]
        arrival = {r["id"]: t0 + r["arrival_s"] for r in rep["records"]}
        steps = sorted((s for s in rep["steps"] if not s.get("warmup")), key=lambda s: s["start_s"])
        seen = set()
        for prev, st in zip(steps, steps[1:]):
            for it in prev["items"]:
                seen.add(it["id"])
            end = t0 + prev["start_s"] + prev["duration_s"]
            start = t0 + st["start_s"]
            new = [it["id"] for it in st["items"] if it["id"] not in seen and it["id"] in arrival]
            if start - end < 0.002 or not new:
                continue
            first = min(new, key=lambda i: arrival[i])
            # The driver rank's first wait after the step: at once (stale) or not.
            w = next((e for e in waits if e["t"] >= end - 1e-4), None)
            stale = w is not None and w["value"] and w["end"] - w["t"] < 0.001 and w["t"] < arrival[first]
            drain = next((e for e in d_prep if e["value"] and e["t"] >= end), None)
            fpoll = next((e for e in f_prep if e["value"] and e["t"] >= end), None)
            polls = [x - end for x in f_starts if end < x <= (fpoll["t"] if fpoll else end)]
            rows.append((rep["index"], first, 1e3 * (arrival[first] - end), stale,
                         1e3 * (drain["t"] - end) if drain else float("nan"),
                         1e3 * (fpoll["end"] - end) if fpoll else float("nan"), len(polls)))
    print("rep  request     arrival  stale  drain   scheduled  follower polls (ms after the last step)")
    for r in rows:
        print(f"{r[0]:>3}  {r[1]:<10} {r[2]:8.1f}  {str(r[3]):<5} {r[4]:7.1f}  {r[5]:9.1f}  {r[6]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
