"""Measure all-reduce over the real interconnect at the sizes of hfcb's tensor-parallel
steps, into Vidur's network profile layout (all_reduce.csv) that simkit reads.

Usage (N GPUs of one host):
  python -m torch.distributed.run --standalone --nproc-per-node N hfcb_profile_allreduce.py \\
      --out DIR --model-spec JSON [--budget 8192] [--iters 50] [--ops-per-graph 20] [--quick]

Why these sizes: under transformers' TP plan a Qwen3 layer ends its attention (o_proj,
rowwise) and its MLP (down_proj, rowwise) with an all-reduce of the step's activations,
query tokens × hidden × dtype bytes; with CUDA graphs the query tokens are padded to a
multiple of 64 up to the token budget. The grid is every such padded size plus the small
unpadded ones (1…32 tokens) that engines without padding send.

How: the engine runs its all-reduces inside CUDA graphs (NCCL graph mixing off), so each
size is timed the same way: one graph of --ops-per-graph all-reduces on a tensor of that
size, replayed --iters times after warm-up replays; before each replay both ranks meet at
a barrier, and each replay is timed with CUDA events. A replay's time divided by the
operations in it is one sample; the sample kept per iteration is the slower rank's (a
step waits for the last rank). Times are in ms, as Vidur's.

Rows: one per size, for this world size: the unnamed index, time_stats.all_reduce.{min,
max,mean,median,std}, rank (0), num_workers, size (bytes), collective (all_reduce),
devices_per_node, max_devices_per_node. all_reduce_provenance.json records the GPUs,
NCCL, the interconnect and the method.

Not measured here: the LM head's all-gather of vocabulary-sharded logits (colwise_rep),
which is not an all-reduce; simkit adds 2 all-reduces per layer only.

The pure parts (grid, statistics, rows, CSV) are tested without torch in
test_profile_allreduce.py.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import statistics
import sys
import time

import hfcb_dist

COLLECTIVE = "all_reduce"
STATS = ("min", "max", "mean", "median", "std")
HEADER = [""] + [f"time_stats.{COLLECTIVE}.{s}" for s in STATS] + [
    "rank", "num_workers", "size", "collective", "devices_per_node", "max_devices_per_node"]
DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}
SMALL_TOKENS = (1, 2, 4, 8, 16, 32)
Q_PAD_INTERVAL = 64  # transformers 5.17's query padding under CUDA graphs


def step_tokens(budget: int, quick: bool = False) -> list:
    """The query-token counts whose all-reduce sizes are measured: 1…32 unpadded, then
    every multiple of 64 up to the budget (with --quick every 8th multiple, and the budget)."""
    if budget < Q_PAD_INTERVAL:
        raise ValueError(f"token budget {budget} is below the padding interval {Q_PAD_INTERVAL}")
    padded = list(range(Q_PAD_INTERVAL, budget + 1, Q_PAD_INTERVAL))
    if quick:
        padded = padded[::8] + ([padded[-1]] if padded[-1] not in padded[::8] else [])
    return sorted(set(SMALL_TOKENS) | set(padded))


def step_sizes(hidden: int, dtype: str, budget: int, quick: bool = False) -> list:
    """(tokens, bytes) of each all-reduce to measure: tokens × hidden × dtype bytes."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype {dtype!r}: want one of {sorted(DTYPE_BYTES)}")
    return [(t, t * hidden * DTYPE_BYTES[dtype]) for t in step_tokens(budget, quick)]


def slower_rank(samples_by_rank: list) -> list:
    """Per iteration, the largest time over the ranks (all ranks have the same count)."""
    counts = {len(s) for s in samples_by_rank}
    if len(counts) != 1:
        raise ValueError(f"ranks returned different numbers of samples: {sorted(counts)}")
    return [max(v) for v in zip(*samples_by_rank)]


def stats_ms(samples: list) -> dict:
    """min, max, mean, median and population std of samples (ms); all must be finite > 0."""
    if not samples:
        raise ValueError("no samples")
    bad = [s for s in samples if not (isinstance(s, (int, float)) and math.isfinite(s) and s > 0)]
    if bad:
        raise ValueError(f"samples must be finite positive times, got {bad[:3]}")
    return {"min": min(samples), "max": max(samples), "mean": statistics.fmean(samples),
            "median": statistics.median(samples), "std": statistics.pstdev(samples)}


def csv_rows(results: list, num_workers: int, devices_per_node: int, max_devices_per_node: int) -> list:
    """all_reduce.csv rows from [(size bytes, stats)], sorted by size, indexed from 0."""
    sizes = [size for size, _ in results]
    if len(set(sizes)) != len(sizes):
        raise ValueError("a size appears twice")
    rows = []
    for i, (size, st) in enumerate(sorted(results, key=lambda r: r[0])):
        rows.append([i] + [st[s] for s in STATS] + [0, num_workers, size, COLLECTIVE, devices_per_node,
                                                    max_devices_per_node])
    return rows


def csv_text(rows: list) -> str:
    """The CSV with floats in shortest round-trip form and LF line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([repr(v) if isinstance(v, float) else v for v in r])
    return buf.getvalue()


# ----- measurement (torch, NCCL; GPU only)

def measure(torch, size_bytes: int, dtype, elem_bytes: int, iters: int, ops_per_graph: int, warmup: int) -> list:
    """This rank's samples (ms per all-reduce) for one size, timed inside a CUDA graph."""
    dist = torch.distributed
    x = torch.ones(size_bytes // elem_bytes, dtype=dtype, device="cuda")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):  # NCCL wants a warm communicator before capture
        for _ in range(3):
            dist.all_reduce(x)
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(ops_per_graph):
            dist.all_reduce(x)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples = []
    for k in range(warmup + iters):
        dist.barrier()
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        if k >= warmup:
            samples.append(start.elapsed_time(end) / ops_per_graph)
    del graph
    return samples


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="bundle folder: all_reduce.csv and all_reduce_provenance.json")
    p.add_argument("--model-spec", required=True, help="the target's model as JSON (simkit.ModelSpec)")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--budget", type=int, default=8192, help="token budget (max_batch_tokens): the largest step")
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--ops-per-graph", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="every 8th padded size: a smoke run, never committed")
    args = p.parse_args(argv)

    launch = hfcb_dist.launch_from_env(os.environ)
    if launch.world_size < 2:
        sys.exit("hfcb_profile_allreduce: run under python -m torch.distributed.run --nproc-per-node N (N >= 2)")
    _, cfg = hfcb_dist.config_from_spec(args.model_spec, args.dtype)
    sizes = step_sizes(cfg["hidden_size"], args.dtype, args.budget, args.quick)

    os.environ.setdefault(hfcb_dist.GRAPH_MIXING_ENV, "0")
    import torch

    torch.cuda.set_device(launch.local_rank)
    torch.distributed.init_process_group("nccl", device_id=torch.device("cuda", launch.local_rank))
    dtype = getattr(torch, args.dtype)
    results, begun = [], time.perf_counter()
    for n, (tokens, size) in enumerate(sizes):
        mine = measure(torch, size, dtype, DTYPE_BYTES[args.dtype], args.iters, args.ops_per_graph, args.warmup)
        gathered = [None] * launch.world_size
        torch.distributed.all_gather_object(gathered, mine)
        if launch.leader:
            st = stats_ms(slower_rank(gathered))
            results.append((size, st))
            print(f"all_reduce {n + 1}/{len(sizes)}: {tokens} tokens, {size} B: median {st['median']:.4f} ms",
                  file=sys.stderr, flush=True)
    if launch.leader:
        os.makedirs(args.out, exist_ok=True)
        rows = csv_rows(results, launch.world_size, launch.world_size, torch.cuda.device_count())
        with open(os.path.join(args.out, "all_reduce.csv"), "w", encoding="utf-8", newline="") as f:
            f.write(csv_text(rows))
        prov = provenance(torch, launch, args, time.perf_counter() - begun)
        with open(os.path.join(args.out, "all_reduce_provenance.json"), "w", encoding="utf-8") as f:
            json.dump(prov, f, indent=2, sort_keys=True)
            f.write("\n")
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    return 0


def provenance(torch, launch, args, took_s: float) -> dict:
    import subprocess

    try:
        topo = subprocess.run(["nvidia-smi", "topo", "-m"], capture_output=True, text=True, timeout=20,
                              check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        topo = ""
        print(f"nvidia-smi topo -m: {e}", file=sys.stderr)
    world = launch.world_size
    p2p = {f"GPU{a}-GPU{b}": bool(torch.cuda.can_device_access_peer(a, b))
           for a in range(world) for b in range(a + 1, world)}
    return {
        "method": (f"all_reduce in CUDA graphs of {args.ops_per_graph} ops, {args.iters} timed replays after "
                   f"{args.warmup}, barrier before each, CUDA events; per iteration the slower rank"),
        "world_size": world,
        "gpus": [torch.cuda.get_device_name(i) for i in range(world)],
        "torch": torch.__version__,
        "nccl": ".".join(str(v) for v in torch.cuda.nccl.version()),
        "interconnect": hfcb_dist.interconnect(hfcb_dist.parse_topo(topo), world, p2p),
        "env": hfcb_dist.collective_env(os.environ),
        "quick": args.quick,
        "took_s": round(took_s, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
