"""GPU kernel microbenchmarks of the hfcb profiler: every per-layer op and per-step op
of the model's own modules, and the engine's packed paged attention, timed as CUDA
graphs. Needs torch, transformers and a CUDA GPU.
"""

from __future__ import annotations

import subprocess

from hfcb_profile_model import (
    ATTENTION_BACKEND, H200_NUM_PAGES, KV_PAD_INTERVAL, MLP_OPS, MODEL, ProfileError, log,
)

# ---------------------------------------------------------------------------------------
# GPU part. Everything below needs torch, transformers and a CUDA GPU.

def nvidia_smi() -> tuple:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise ProfileError(f"nvidia-smi failed: {e}") from e
    first = out.strip().splitlines()[0]
    name, driver = [x.strip() for x in first.split(",", 1)]
    return name, driver


def build_model():
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config(vocab_size=MODEL["vocab"], hidden_size=MODEL["hidden"],
                      intermediate_size=MODEL["intermediate"], num_hidden_layers=MODEL["layers"],
                      num_attention_heads=MODEL["q_heads"], num_key_value_heads=MODEL["kv_heads"],
                      head_dim=MODEL["head_dim"], max_position_embeddings=40960, rope_theta=1000000.0,
                      rms_norm_eps=1e-6, tie_word_embeddings=True)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM._from_config(cfg, attn_implementation=ATTENTION_BACKEND, dtype=torch.bfloat16)
    return model.eval()


class GraphBench:
    """Times GPU work as CUDA-graph replays: fn is captured `calls` times into one graph,
    and each replay's CUDA-event time / calls is one sample (ms)."""

    def __init__(self, replays: int):
        import torch

        self.torch, self.replays = torch, replays

    def __call__(self, fn, calls: int) -> list:
        torch = self.torch
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for _ in range(calls):
                fn()
        g.replay()
        torch.cuda.synchronize()
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        out = []
        for _ in range(self.replays):
            e0.record()
            g.replay()
            e1.record()
            e1.synchronize()
            out.append(e0.elapsed_time(e1) / calls)
        del g
        return out


def _require_attrs(obj, names: list, what: str) -> None:
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise ProfileError(f"{what} lacks {missing}: this transformers version's Qwen3 differs from 5.17")


def bench_ops(model, plan: dict) -> dict:
    """mlp.csv samples: per op, per num_tokens, a list of ms."""
    import torch
    from transformers.models.qwen3 import modeling_qwen3 as mq

    layers = list(model.model.layers)
    for l in layers[:1]:
        _require_attrs(l, ["input_layernorm", "post_attention_layernorm", "self_attn", "mlp"], "decoder layer")
        _require_attrs(l.self_attn, ["q_proj", "k_proj", "v_proj", "o_proj", "q_norm", "k_norm"], "Qwen3Attention")
        _require_attrs(l.mlp, ["gate_proj", "up_proj", "down_proj", "act_fn"], "Qwen3MLP")
    _require_attrs(model.model, ["embed_tokens", "rotary_emb", "norm"], "Qwen3Model")
    _require_attrs(mq, ["apply_rotary_pos_emb"], "modeling_qwen3")
    bench = GraphBench(plan["replays"])
    nl = len(layers)
    hq, hk, d = MODEL["q_heads"], MODEL["kv_heads"], MODEL["head_dim"]
    samples = {op: [] for op in MLP_OPS}
    bf = dict(device="cuda", dtype=torch.bfloat16)
    for idx, n in enumerate(plan["tokens"]):
        if idx % 8 == 0:
            log(f"kernel ops at num_tokens {n} ({idx + 1}/{len(plan['tokens'])})")
        h = torch.randn(1, n, MODEL["hidden"], **bf)
        h2 = torch.randn(1, n, MODEL["hidden"], **bf)
        qv = torch.randn(1, n, hq, d, **bf)
        kv = torch.randn(1, n, hk, d, **bf)
        qt, kt = qv.transpose(1, 2), kv.transpose(1, 2)
        a = torch.randn(1, n, hq * d, **bf)
        g = torch.randn(1, n, MODEL["intermediate"], **bf)
        u = torch.randn(1, n, MODEL["intermediate"], **bf)
        ids = torch.randint(0, MODEL["vocab"], (1, n), device="cuda")
        pos = torch.arange(n, device="cuda").unsqueeze(0)
        cos, sin = model.model.rotary_emb(h, pos)
        rows = torch.arange(n, device="cuda", dtype=torch.int32)
        logits = torch.randn(1, n, MODEL["vocab"], **bf)
        out_ids = torch.zeros(1, n + 1, device="cuda", dtype=torch.int32)

        def per_layer(f):
            def run():
                for l in layers:
                    f(l)
            return run

        def sample_fn():
            t = logits.float().argmax(dim=-1, keepdim=True).squeeze(-1)
            out_ids[0, :n].copy_(t[0])

        layer_fns = {
            "input_layernorm": per_layer(lambda l: l.input_layernorm(h)),
            "attn_pre_proj": per_layer(lambda l: (l.self_attn.q_proj(h), l.self_attn.k_proj(h),
                                                  l.self_attn.v_proj(h))),
            "attn_qk_norm": per_layer(lambda l: (l.self_attn.q_norm(qv), l.self_attn.k_norm(kv))),
            "attn_rope": per_layer(lambda l: mq.apply_rotary_pos_emb(qt, kt, cos, sin)),
            "attn_post_proj": per_layer(lambda l: l.self_attn.o_proj(a)),
            "post_attention_layernorm": per_layer(lambda l: l.post_attention_layernorm(h)),
            "mlp_up_proj": per_layer(lambda l: (l.mlp.gate_proj(h), l.mlp.up_proj(h))),
            "mlp_act": per_layer(lambda l: l.mlp.act_fn(g) * u),
            "mlp_down_proj": per_layer(lambda l: l.mlp.down_proj(g)),
            "add": per_layer(lambda l: h + h2),
        }
        step_fns = {
            "emb": lambda: (model.model.embed_tokens(ids), model.model.rotary_emb(h, pos)),
            "final_norm": lambda: model.model.norm(h),
            "lm_head": lambda: model.lm_head(h[:, rows, :]),
            "sampler": sample_fn,
        }
        calls = 4 if n <= 512 else 1
        for op, f in layer_fns.items():
            samples[op].append([t / nl for t in bench(f, calls)])
        step_calls = 16 if n <= 512 else (4 if n <= 4096 else 2)
        for op, f in step_fns.items():
            samples[op].append(bench(f, step_calls))
        del h, h2, qv, kv, qt, kt, a, g, u, ids, pos, cos, sin, rows, logits, out_ids
        torch.cuda.empty_cache()
    return samples


def _paged_cache_view(k_cache, v_cache, sentinel: int):
    """An object with the attributes PagedAttentionCache.update reads, bound to the
    engine's own update method, so the microbenchmark runs the engine's cache code."""
    import types

    from transformers.generation.continuous_batching.cache import PagedAttentionCache

    ns = types.SimpleNamespace(layer_index_to_group_indices={0: (0, 0)}, key_cache=[k_cache],
                               value_cache=[v_cache], sliding_windows={0: 1}, sentinel_index=sentinel)
    ns.update = types.MethodType(PagedAttentionCache.update, ns)
    return ns


def bench_attention(model, plan: dict) -> tuple:
    """attention samples[i][j] (ms per layer) at (attn_q[i], attn_kv[j]), and the SDPA
    kernel names seen."""
    import torch
    from transformers.integrations.sdpa_paged import sdpa_attention_paged_forward

    attn_mod = model.model.layers[0].self_attn
    _require_attrs(attn_mod, ["layer_idx", "num_key_value_groups", "scaling"], "Qwen3Attention")
    hq, hk, d = MODEL["q_heads"], MODEL["kv_heads"], MODEL["head_dim"]
    qmax, kvmax = max(plan["attn_q"]), max(plan["attn_kv"])
    pages = kvmax + qmax + 256
    bf = dict(device="cuda", dtype=torch.bfloat16)
    k_cache = torch.randn(pages, hk, d, **bf)
    v_cache = torch.randn(pages, hk, d, **bf)
    trash = pages - 1
    cache = _paged_cache_view(k_cache, v_cache, trash)
    # The engine's mask is a view of a [1, 1, max_batch_tokens, num_pages + max_batch_tokens] buffer:
    # its row stride is num_pages + max_batch_tokens (the H200 target's by default; a plan
    # may name another, e.g. an odd one, whose bf16 rows are not 16-byte aligned).
    stride = plan.get("mask_stride", H200_NUM_PAGES + 8192)
    mask_buf = torch.zeros(1, 1, qmax, stride, **bf)
    bench = GraphBench(plan["replays"])
    samples = [[None] * len(plan["attn_kv"]) for _ in plan["attn_q"]]
    kernels = set()
    for j, kvp in enumerate(plan["attn_kv"]):
        for i, q in enumerate(plan["attn_q"]):
            if i % 16 == 0:
                log(f"attention KVpad {kvp}, Q {q}..")
            # Distinct cached rows: half an interval below the padded size (a typical
            # step); a cache smaller than one interval (KVpad = its num_pages) half full.
            half = KV_PAD_INTERVAL // 2 if kvp >= KV_PAD_INTERVAL else kvp // 2
            distinct = min(kvp - half + q, kvp + q)
            read = torch.cat([torch.arange(distinct, device="cuda"),
                              torch.full((kvp + q - distinct,), trash, device="cuda")])
            write = torch.arange(distinct - q, distinct, device="cuda")
            qs = torch.randn(1, q, hq, d, **bf).transpose(1, 2)
            ks = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
            vs = torch.randn(1, q, hk, d, **bf).transpose(1, 2)
            mask = mask_buf[..., :q, :kvp + q]

            def run():
                sdpa_attention_paged_forward(attn_mod, qs, ks, vs, mask, dropout=0.0, scaling=attn_mod.scaling,
                                             cache=cache, read_index=[read], write_index=[write])

            if (i == 0 and j == 0) or plan.get("all_kernels"):
                kernels |= sdpa_kernel_names(run)
            calls = 4 if q <= 512 else (2 if q <= 2048 else 1)
            samples[i][j] = bench(run, calls)
            del read, write, qs, ks, vs, mask
    del k_cache, v_cache, mask_buf, cache
    torch.cuda.empty_cache()
    return samples, sorted(kernels)


def sdpa_kernel_names(fn) -> set:
    """The GPU kernels one call launches whose names look like attention (which SDPA
    backend the engine gets: flash, memory-efficient/cutlass, cuDNN or math)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names = set()
    for e in prof.events():
        n = e.name.lower()
        if any(s in n for s in ("attention", "fmha", "flash", "cudnn", "softmax", "gemm", "bmm", "efficient")):
            names.add(e.name[:120])
    return names
