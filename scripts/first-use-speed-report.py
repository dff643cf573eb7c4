#!/usr/bin/env python3
"""Report of scripts/gpu-first-use-speed.sh's recording (no GPU): does a compile probe
predict the first-use costs of the fresh engine process started right after it?

Usage: scripts/first-use-speed-report.py [DIR]
  DIR: targets/catalog/h200-hfcb-qwen3-0.6b/dev/first-use-speed (default)

Prints, per fresh process in recording order, the probe run just before it (its two
SDPA kernel-variant compilations, ms), the process's first step and its first capture
of the other kernel variant (wall ms; and the eager forward's thread CPU time over its
wall time, and steal), then Pearson correlations: probe before / after against the
process's first + variant, and first against variant within processes.
"""

from __future__ import annotations

import json
import os
import statistics
import sys


def first_and_variant(run: dict) -> tuple:
    """The first capture step and the first capture of the other kernel variant (the
    padded query length a multiple of 128 or not) of a one-repetition fresh run."""
    caps = [s for s in run["repetitions"][0]["steps"] if s.get("captured")]
    first = caps[0]
    other = next((s for s in caps[1:] if (s["q_pad"] % 128 == 0) != (first["q_pad"] % 128 == 0)), None)
    return first, other


def main(argv: list) -> int:
    d = argv[1] if len(argv) > 1 else "targets/catalog/h200-hfcb-qwen3-0.6b/dev/first-use-speed"
    with open(os.path.join(d, "compile-probes.jsonl")) as f:
        probes = [json.loads(line)["compile_ms"] for line in f if line.strip()]
    rows = []
    n = 0
    for k in range(1, 6):
        for trace in ("cold-burst-tail", "cold-poisson"):
            with open(os.path.join(d, f"{trace}-{k}.json")) as f:
                first, other = first_and_variant(json.load(f))
            rows.append((trace, k, probes[n], probes[n + 1], first, other))
            n += 1
    print(f"{'process':<18} {'probe before':>12} {'first ms':>9} {'variant ms':>10} {'cpu/wall':>8} {'steal ms':>8}")
    for trace, k, before, _, first, other in rows:
        ph = [s.get("phases", {}) for s in (first, other)]
        ratio = sum(p.get("eager_cpu_ms", 0) for p in ph) / max(sum(p.get("eager_ms", 0) for p in ph), 1e-9)
        steal = sum(p.get("eager_steal_ms", 0) or 0 for p in ph)
        print(f"{trace + '-' + str(k):<18} {before:12.0f} {first['duration_s'] * 1e3:9.0f} "
              f"{other['duration_s'] * 1e3:10.0f} {ratio:8.3f} {steal:8.0f}")
    total = [(r[4]["duration_s"] + r[5]["duration_s"]) * 1e3 for r in rows]
    print(f"probes: {len(probes)}, {min(probes):.0f}-{max(probes):.0f} ms (two compilations each)")
    for trace in ("cold-burst-tail", "cold-poisson"):
        idx = [i for i, r in enumerate(rows) if r[0] == trace]
        t = [total[i] for i in idx]
        print(f"{trace}: first + variant {min(t):.0f}-{max(t):.0f} ms; "
              f"r(probe before) {statistics.correlation([rows[i][2] for i in idx], t):+.2f}, "
              f"r(probe after) {statistics.correlation([rows[i][3] for i in idx], t):+.2f}, "
              f"r(first, variant) {statistics.correlation([rows[i][4]['duration_s'] for i in idx], [rows[i][5]['duration_s'] for i in idx]):+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
