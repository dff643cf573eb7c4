#!/usr/bin/env python3
"""Write a development calibration trace (JSON lines, simval's trace format) for the hfcb
engine's CPU cost per cached token: waves of N identical requests (prompt P, 64 output
tokens) arriving together, far enough apart not to overlap, so each wave decodes at a
fixed batch N and one graph key (query 64, cached tokens padded to 16384) while its
cached tokens grow. Across waves of one N only the prompt changes, so a change of the
step's wall time with the cached tokens read is host work, not kernels (the CUDA graph
replays the same padded shapes). Not a scenario: nothing in the catalog is judged on it.

Usage: scripts/make-kv-ladder-trace.py > FILE.jsonl   (deterministic)
"""

import json
import sys

GRID = {8: (16, 400, 800, 1200, 1800), 32: (16, 100, 200, 300, 400), 64: (16, 60, 110, 160, 180)}
OUTPUT = 64
SPACING_S = 2.5  # a wave's prefill and 64 decode steps of 23-30 ms, with room


def main() -> int:
    t = 0.0
    for n, prompts in GRID.items():
        for p in prompts:
            assert n * (p + OUTPUT) <= 16384, (n, p)  # one padded cache size for the whole wave
            for i in range(n):
                json.dump({"id": f"n{n}-p{p}-{i}", "arrival_s": round(t, 3), "prompt_tokens": p,
                           "output_tokens": OUTPUT}, sys.stdout)
                sys.stdout.write("\n")
            t += SPACING_S
    return 0


if __name__ == "__main__":
    sys.exit(main())
