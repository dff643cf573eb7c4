#!/usr/bin/env python3
"""Write a development trace (JSON lines, simval's trace format) for the idle poll of a
tensor-parallel hfcb engine (simkit/HFCB.md, "The idle poll"): when does an engine that
has just gone idle admit the next request? Not a scenario: nothing in the catalog is
judged on it.

Groups, alternating:
  - quiet: one request (64-token prompt, 8 output tokens) arriving at an idle engine;
  - woken while busy: one such request, then a second (16 output tokens) 0.15 s later,
    while the first one is decoding (it sets the driver rank's wake-up event while the
    engine is busy, which the engine consumes at its next idle iteration).
The next group's first request falls at a seeded random offset into the idle stretch,
so the arrivals cover every phase of the first and second poll after the engine went
idle, where the two kinds of group differ.

Usage: scripts/make-idle-poll-trace.py [--groups 48] [--seed 1] > FILE.jsonl   (deterministic)
"""

import argparse
import json
import random
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--groups", type=int, default=48)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = random.Random(args.seed)
    t = 0.0
    for g in range(args.groups):
        reqs = [(f"g{g}-a", t, 64, 8)]
        if g % 2:
            reqs.append((f"g{g}-b", t + 0.15, 64, 16))
        for rid, at, prompt, output in reqs:
            json.dump({"id": rid, "arrival_s": round(at, 4), "prompt_tokens": prompt, "output_tokens": output},
                      sys.stdout)
            sys.stdout.write("\n")
        # A quiet group ends 0.2-0.3 s after its arrival (up to one poll, 8 steps); a
        # woken one 0.5-0.55 s. The next arrival lands up to about 0.3 s into the idle
        # stretch, or just before it (then it is a woken group's second request).
        t += (0.6 if g % 2 else 0.3) + rng.uniform(0.0, 0.3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
