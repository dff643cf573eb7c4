"""Does the attention mask's row stride change what SDPA costs? (GPU probe, one process)

transformers 5.17 keeps the varlen attention mask as a view of a
[1, 1, max_batch_tokens, num_pages + max_batch_tokens] bf16 buffer. With the catalog
target's defaults the row stride is 978688 + 8192 (a multiple of 8 elements: rows are
16-byte aligned). With ``num_blocks`` fixed at 24 the engine resolves
max_batch_tokens 145379, so the stride is 6144 + 145379 = 151523, odd. This probe times
the engine's own paged SDPA forward (hfcb_profile_bench.bench_attention, per layer, as
CUDA-graph replays) at the shapes of that decision's steps under both strides, and
lists the GPU kernels each launches, so the mechanism is measured, not guessed.

Usage: hfcb_mask_stride_probe.py [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import statistics

from hfcb_profile_bench import bench_attention, build_model

STRIDES = {"aligned (num_pages 6144 + max_batch_tokens 8192)": 6144 + 8192,
           "odd (num_pages 6144 + max_batch_tokens 145379)": 6144 + 145379,
           "aligned default (978688 + 8192)": 978688 + 8192}
Q = [64, 3584]  # the decision's decode steps (16 decodes, q_pad 64) and its 16-prompt prefill
KV = [6144]  # kv_pad: the whole 24-block cache


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None)
    p.add_argument("--replays", type=int, default=30)
    args = p.parse_args()
    model = build_model()
    result = {}
    for name, stride in STRIDES.items():
        plan = {"attn_q": Q, "attn_kv": KV, "replays": args.replays, "mask_stride": stride, "all_kernels": True}
        samples, kernels = bench_attention(model, plan)
        result[name] = {"stride": stride,
                        "per_layer_ms": {str(q): statistics.median(samples[i][0]) for i, q in enumerate(Q)},
                        "kernels": kernels}
        print(name, json.dumps(result[name]["per_layer_ms"]), flush=True)
    text = json.dumps(result, indent=1, sort_keys=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
