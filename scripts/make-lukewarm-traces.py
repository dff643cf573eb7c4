#!/usr/bin/env python3
"""Write the development traces (JSON lines, simval's trace format) for a lukewarm
engine: one process replays a trace several times, so every repetition after the first
starts with the CUDA graphs the earlier ones (and any warm-up) captured, and meets new
step shapes only where arrival jitter makes new mixes. Not scenarios: nothing in the
catalog is judged on them; they check `validate --run`'s after-warmup state per
repetition (suite.RecordedRuns) on workloads no catalog scenario resembles.

  lukewarm-poisson  15 req/s Poisson, prompts 32-512, outputs 64-256: about a hundred
                    requests in flight, the load the engine-state issue measured −20% to
                    −56% TTFT on for a second pass predicted warm.
  lukewarm-long     6 req/s Poisson, prompts 200-4000 (log-uniform), outputs 16-128:
                    long prefills chunked against decodes.

Usage: scripts/make-lukewarm-traces.py DIR   (deterministic: seeded)
"""

import json
import math
import random
import sys
from pathlib import Path


def poisson(rng: random.Random, rate: float, n: int, prompt, output, prefix: str):
    t = 0.0
    for i in range(n):
        yield {"id": f"{prefix}{i:03d}", "arrival_s": round(t, 4), "prompt_tokens": prompt(rng),
               "output_tokens": output(rng)}
        t += rng.expovariate(rate)


def write(path: Path, rows) -> None:
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1])
    rng = random.Random(11)
    write(out / "lukewarm-poisson.jsonl", poisson(rng, 15.0, 150, lambda r: r.randint(32, 512),
                                                  lambda r: r.randint(64, 256), "p"))
    rng = random.Random(12)
    write(out / "lukewarm-long.jsonl", poisson(rng, 6.0, 60,
                                               lambda r: int(math.exp(r.uniform(math.log(200), math.log(4000)))),
                                               lambda r: r.randint(16, 128), "l"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
