"""The hfcb profiler's bundle writers — pure: the CSV tables (mlp.csv, attention.csv,
cpu_overheads.csv) in Vidur's column layout, provenance.yaml and the method text. No
torch, no GPU: unit-tested by test_profile_hfcb.py.
"""

from __future__ import annotations

import csv
import json
import math
import statistics

from hfcb_profile_model import (
    ATTENTION_BACKEND, H200_NUM_PAGES, MLP_OPS, MODEL, Q_PAD_INTERVAL, STATS, ProfileError, pad_to_interval,
)


def stats(samples: list) -> dict:
    if not samples:
        raise ProfileError("no samples")
    return {"min": min(samples), "max": max(samples), "mean": statistics.fmean(samples),
            "median": statistics.median(samples), "std": statistics.pstdev(samples)}


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ProfileError(f"non-finite value {v}")
        return f"{v:.6g}"
    return str(v)


def write_csv(path: str, header: list, rows: list) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_fmt(r[h]) for h in header])


def mlp_rows(tokens: list, samples: dict) -> tuple:
    """mlp.csv in Vidur's layout: samples[op][i] are the timings (ms) at tokens[i]."""
    header = [f"time_stats.{op}.{s}" for op in MLP_OPS for s in STATS]
    header += ["n_head", "n_kv_head", "n_embd", "n_expanded_embd", "vocab_size", "use_gated_mlp", "num_tokens",
               "num_tensor_parallel_workers"]
    rows = []
    for i, n in enumerate(tokens):
        r = {"n_head": MODEL["q_heads"], "n_kv_head": MODEL["kv_heads"], "n_embd": MODEL["hidden"],
             "n_expanded_embd": MODEL["intermediate"], "vocab_size": MODEL["vocab"], "use_gated_mlp": True,
             "num_tokens": n, "num_tensor_parallel_workers": 1}
        for op in MLP_OPS:
            for s, v in stats(samples[op][i]).items():
                r[f"time_stats.{op}.{s}"] = v
        rows.append(r)
    return header, rows


def attention_rows(attn_q: list, attn_kv: list, samples: list, budget: int = 8192) -> tuple:
    """attention.csv: one prefill row per (Q, KVpad) with batch_size 1, prefill_chunk_size
    = Q (padded query tokens of the whole step) and kv_cache_size = KVpad (padded cached
    tokens read; the key length is KVpad + Q). Decode rows (prefill_chunk_size 0) restate
    the same measurement for b decodes, whose Q is pad64(b), so that loaders that need
    decode rows get the engine's real cost; simval's hfcb predictor reads only prefill rows."""
    cols = ["attn_prefill", "attn_decode"]
    header = [f"time_stats.{c}.{s}" for c in cols for s in STATS]
    header += ["n_embd", "n_q_head", "n_kv_head", "block_size", "num_tensor_parallel_workers", "max_model_len",
               "batch_size", "prefill_chunk_size", "kv_cache_size", "is_prefill", "attention_backend"]
    base = {"n_embd": MODEL["hidden"], "n_q_head": MODEL["q_heads"], "n_kv_head": MODEL["kv_heads"],
            "block_size": 256, "num_tensor_parallel_workers": 1, "max_model_len": H200_NUM_PAGES,
            "attention_backend": ATTENTION_BACKEND}
    blank = {f"time_stats.{c}.{s}": "" for c in cols for s in STATS}
    rows = []
    for i, q in enumerate(attn_q):
        for j, kv in enumerate(attn_kv):
            st = stats(samples[i][j])
            r = {**base, **blank, "batch_size": 1, "prefill_chunk_size": q, "kv_cache_size": kv, "is_prefill": True}
            r.update({f"time_stats.attn_prefill.{s}": v for s, v in st.items()})
            rows.append(r)
    for b in sorted({1, *[q for q in attn_q if q <= 1024]}):
        i = attn_q.index(pad_to_interval(b, Q_PAD_INTERVAL, budget)) if pad_to_interval(
            b, Q_PAD_INTERVAL, budget) in attn_q else None
        if i is None:
            continue
        for j, kv in enumerate(attn_kv):
            st = stats(samples[i][j])
            r = {**base, **blank, "batch_size": b, "prefill_chunk_size": 0, "kv_cache_size": kv, "is_prefill": False}
            r.update({f"time_stats.attn_decode.{s}": v for s, v in st.items()})
            rows.append(r)
    return header, rows


CPU_HEADER = ["model_name", "tensor_parallel_degree", "batch_size", "num_tokens", "schedule_median",
              "sampler_e2e_median", "prepare_inputs_e2e_median", "process_model_outputs_median",
              "ray_comm_time_mean", "cpu_total_median", "launch_median", "cpu_per_kv_token_ms", "gpu_wait_median",
              "wall_median", "kernel_pred_median", "kv_read_median", "count"]


def cpu_csv_rows(rows: list, slope: float, tp: int = 1) -> list:
    """cpu_overheads.csv rows of an engine of tensor parallelism tp."""
    out = []
    for r in rows:
        out.append({"model_name": MODEL["name"], "tensor_parallel_degree": tp, "batch_size": r["batch_size"],
                    "num_tokens": r["num_tokens"], "schedule_median": r["sched"], "sampler_e2e_median": 0.0,
                    "prepare_inputs_e2e_median": r["prep"], "process_model_outputs_median": r["update"],
                    "ray_comm_time_mean": r["other"], "cpu_total_median": r["cpu"], "launch_median": r["launch"],
                    "cpu_per_kv_token_ms": slope, "kv_read_median": r["kv"], "gpu_wait_median": r["wait"], "wall_median": r["wall"], "kernel_pred_median": r["kernel"],
                    "count": r["count"]})
    return out


def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def provenance_yaml(fields: dict, comments: list) -> str:
    """provenance.yaml with simkit.Provenance's fields only (the loader rejects unknown
    ones); comments go first as '#' lines."""
    lines = [("# " + c).rstrip() for c in comments]
    for k, v in fields.items():
        if isinstance(v, dict):
            lines.append(f"{k}:")
            lines += [f"  {kk}: {_yaml_scalar(vv)}" for kk, vv in v.items()]
        else:
            lines.append(f"{k}: {_yaml_scalar(v)}")
    return "\n".join(lines) + "\n"


METHOD = (
    "Kernel tables: CUDA-graph microbenchmarks (warm-up, capture, median of replays timed with CUDA events) "
    "of the model's own modules, each per-layer op run once per layer with that layer's weights and divided by "
    "the layers; ms per layer (per step for emb = embedding + rotary table, final_norm, lm_head = row gather + "
    "LM head, sampler = fp32 cast + argmax + copy; lm_head and sampler are keyed by LM-head rows in the "
    "num_tokens column). attention.csv: the engine's packed attention (transformers' sdpa_paged forward and "
    "PagedAttentionCache.update: cache write, index_select of KVpad+Q rows, repeat_kv, one "
    "scaled_dot_product_attention with an additive bf16 [1,1,Q,KVpad+Q] mask view, is_causal False) stored as "
    "rows with batch_size 1, prefill_chunk_size = Q = the step's query tokens padded to 64 (cap 8192), "
    "kv_cache_size = KVpad = the step's cached tokens read padded to 16384 (16384 when none), is_prefill True; "
    "the read indices cover KVpad-8192+Q distinct cache rows and the padding trash row. Decode rows restate "
    "the measurement at Q = pad64(batch_size). A step's kernel time = layers x (per-layer ops at Q, add twice, "
    "+ attention(Q, KVpad)) + emb(Q) + final_norm(Q) + lm_head(R) + sampler(R), R = min(Q, 1024). "
    "cpu_overheads.csv: the real ContinuousBatchingManager (CUDA graphs, fifo, warm: graph-capture steps "
    "excluded) with timing wrappers on its step phases; per calibration shape (batch_size = requests in the "
    "step, num_tokens = unpadded query tokens), cpu_total_median = median over steps of wall - max(kernel "
    "prediction, launch), where wall = prepare_next_batch start to update_batch end plus the loop's median gap "
    "and launch = CPU time of the graph-replay call; this residual holds the CPU work (scheduling, input "
    "preparation and H2D copies, mask building, dispatch, output handling) plus any GPU time the kernel tables "
    "miss (inter-kernel gaps, eager mask kernels). Vidur columns: schedule = schedule_batch, "
    "prepare_inputs_e2e = rest of prepare_next_batch + get_model_kwargs, process_model_outputs = update_batch, "
    "ray_comm_time = unaccounted loop time, sampler_e2e = 0 (inside the graph). gpu_wait_median = time blocked "
    "in the device synchronize (GPU-bound indicator). Rows: decode-only steps (num_tokens == batch_size), "
    "single-request prefills (batch_size 1), mixed steps (evidence for the separable scheme "
    "D(b) + X(n - b) that simkit's hfcb predictor uses). cpu_per_kv_token_ms: least-squares slope of the "
    "decode-only residual against the cached tokens read, within batch sizes (each batch size its own "
    "intercept), over the steady decode passes and the long-context decodes (the engine builds its read "
    "indices every step, one per cached token); cpu_total_median is normalised to no cached tokens (residual - slope x kv_read) and "
    "a prediction adds slope x the step's cached tokens. graph_capture.csv: the engine keys its CUDA graphs on "
    "(padded query tokens, padded cached tokens read, longest key length padded to a power of two >= 1024) and "
    "captures one on a step's first use of a key; per step kind (decode-only, prefill-only, mixed) and padded Q, "
    "capture_ms is the median of (wall of a calibration step that captured - the warm prediction of the same step "
    "from this bundle); kind first is the first step of freshly started engine processes (the replay driver, "
    "one-request trace, no warm-up), which also pays the process's first-use costs. "
    "Calibration workloads are synthetic, not the catalog's."
)
