"""How fast does this machine compile the engine's attention kernels right now? (GPU probe)

A fresh hfcb engine process pays first-use costs: cuDNN's runtime-compiled SDPA kernels
are compiled the first time each variant runs (0.9-2.0 s for the first step on the H200,
varying from process to process on one machine: simkit/HFCB.md). This probe is a
process of its own, with an empty CUDA JIT cache (CUDA_CACHE_PATH set to a new folder
by its caller or here), that runs the engine's own paged SDPA forward once for each
kernel variant (query 64: q%128=64; query 128: q%128=0) and reports per call:

- ``wall_ms``: the first call, synchronised (the compilation and one run);
- ``warm_ms``: a second call of the same shape (the run alone);
- ``cpu_ms`` / ``proc_cpu_ms``: CPU time of this thread / of the process meanwhile;
- ``steal_ms``: hypervisor steal time summed over the machine's CPUs meanwhile.

Run next to fresh engine processes (scripts/gpu-first-use-speed.sh), it says whether a
cheap measurement predicts what a process started right after it will pay.

Usage: hfcb_compile_probe.py [--out FILE.json]   (one JSON line on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from hfcb_phases import steal_ms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    if not os.environ.get("CUDA_CACHE_PATH"):
        os.environ["CUDA_CACHE_PATH"] = tempfile.mkdtemp(prefix="cuda-cache-")
    t0 = time.perf_counter()
    import torch
    from transformers.integrations.sdpa_paged import sdpa_attention_paged_forward

    from hfcb_profile_bench import _paged_cache_view, build_model
    from hfcb_profile_model import MODEL

    model = build_model()
    attn = model.model.layers[0].self_attn
    hq, hk, d = MODEL["q_heads"], MODEL["kv_heads"], MODEL["head_dim"]
    kv, bf = 16384, dict(device="cuda", dtype=torch.bfloat16)
    pages = kv + 256 + 256
    k_cache, v_cache = torch.randn(pages, hk, d, **bf), torch.randn(pages, hk, d, **bf)
    cache = _paged_cache_view(k_cache, v_cache, pages - 1)
    mask_buf = torch.zeros(1, 1, 256, 978688 + 8192, **bf)
    setup_s = time.perf_counter() - t0
    calls = []
    for q in (64, 128):
        read = torch.arange(kv + q, device="cuda")
        write = torch.arange(kv, kv + q, device="cuda")
        qs = torch.randn(1, q, hq, d, **bf).transpose(1, 2)
        ks = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
        vs = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
        mask = mask_buf[..., :q, :kv + q]

        def run():
            sdpa_attention_paged_forward(attn, qs, ks, vs, mask, dropout=0.0, scaling=attn.scaling, cache=cache,
                                         read_index=[read], write_index=[write])
            torch.cuda.synchronize()

        torch.cuda.synchronize()
        steal, proc, thread, start = steal_ms(), time.process_time(), time.thread_time(), time.perf_counter()
        run()
        wall = (time.perf_counter() - start) * 1e3
        cpu, proc_cpu = (time.thread_time() - thread) * 1e3, (time.process_time() - proc) * 1e3
        steal_after = steal_ms()
        start = time.perf_counter()
        run()
        warm = (time.perf_counter() - start) * 1e3
        calls.append({"q": q, "variant": "q%128=0" if q % 128 == 0 else "q%128=64", "wall_ms": round(wall, 3),
                      "warm_ms": round(warm, 3), "cpu_ms": round(cpu, 3), "proc_cpu_ms": round(proc_cpu, 3),
                      "steal_ms": None if steal is None or steal_after is None else round(steal_after - steal, 3)})
    out = {"type": "compile_probe", "setup_s": round(setup_s, 3), "calls": calls,
           "compile_ms": round(sum(c["wall_ms"] - c["warm_ms"] for c in calls), 3),
           "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    text = json.dumps(out)
    print(text, flush=True)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
