#!/usr/bin/env python3
"""Write a calibration trace (JSON lines, simval's trace format) whose steps cover the
shapes the hfcb profiler's calibration engine measures, for engines the profiler cannot
drive in-process (the tensor-parallel target: its ranks must run the replay driver under
torch.distributed.run). Replayed with `simval real --trace ... --warmup replay --steps`,
its warm steps give the CPU and capture tables (rederive), as the profiler's own
calibration steps do on one GPU. Not a scenario: no catalog statistic is judged on it.

  - decode passes: b requests together (16-token prompts, 40 output tokens), b in 1..128;
  - single prefills of 16..8000 tokens (2 output tokens);
  - mixed steps: b requests decoding when one prefill of n tokens arrives;
  - long-context decodes: cached tokens read up to 32,000.

Usage: scripts/make-calibration-trace.py [--largest-prefill N] > FILE.jsonl   (deterministic)
  N: the largest single prefill, 8192 (the engine's token budget) by default; the first
  TP calibration trace (dev/calibration.jsonl) was written with 8000.
"""

import argparse
import json
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--largest-prefill", type=int, default=8192)
    args = p.parse_args()
    reqs, t = [], 0.0

    def add(rid, at, prompt, output):
        reqs.append({"id": rid, "arrival_s": round(at, 3), "prompt_tokens": prompt, "output_tokens": output})

    for b in (1, 2, 4, 8, 16, 32, 64, 128):
        for i in range(b):
            add(f"dec{b}-{i}", t, 16, 40)
        t += 1.6
    for n in (16, 64, 256, 512, 1024, 2048, 4096, args.largest_prefill):
        add(f"pre{n}", t, n, 2)
        t += 0.5
    for b in (4, 16, 64):
        for n in (256, 2048):
            for i in range(b):
                add(f"mix{b}x{n}-{i}", t, 16, 60)
            add(f"mix{b}x{n}-p", t + 0.4, n, 2)
            t += 2.0
    for b, prompt in ((1, 8000), (4, 8000), (8, 4000)):
        for i in range(b):
            add(f"long{b}-{i}", t, prompt, 30)
        t += 2.5
    for r in reqs:
        sys.stdout.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
