"""Version-tolerant access to transformers' continuous-batching API (import-free parts).

The installed transformers may differ from the one this was written against (5.17):
every call goes through these helpers, which check signatures with ``inspect`` and
fail with a message listing what was found, instead of passing an argument that a
``**kwargs`` would silently swallow.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import math
import random

import replay

QWEN3_0_6B_NAME = "Qwen/Qwen3-0.6B"

# The Qwen3-0.6B configuration (design.md "Hardware here"); weights are random.
QWEN3_0_6B = {
    "vocab_size": 151936,
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
    "hidden_act": "silu",
    "attention_bias": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
}
QWEN3_ROPE_THETA = 1000000.0
FIRST_SPECIAL_ID = 151643  # Qwen's special tokens start here; prompts stay below


def signature_text(fn) -> str:
    try:
        return f"{getattr(fn, '__qualname__', fn)}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return repr(fn)


def accepted_kwargs(fn, kwargs: dict, what: str, required=()) -> dict:
    """The non-None kwargs, checked against fn's named parameters.

    A value the caller set must match a named parameter (a ``**kwargs`` catch-all
    does not count: add_request forwards unknown names to logits processors).
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError) as e:
        raise replay.EngineError(f"{what}: cannot read its signature: {e}") from None
    named = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    missing = [k for k in required if k not in named]
    unknown = [k for k, v in kwargs.items() if v is not None and k not in named]
    if missing or unknown:
        raise replay.EngineError(
            f"{what}: installed API {signature_text(fn)} lacks parameters {sorted(set(missing + unknown))}"
        )
    return {k: v for k, v in kwargs.items() if v is not None}


def find_attr(modules: list, name: str):
    """getattr(name) on the first module that has it; raises listing where it looked."""
    for mod in modules:
        if mod is not None and hasattr(mod, name):
            return getattr(mod, name)
    where = [getattr(m, "__name__", repr(m)) for m in modules if m is not None]
    raise replay.EngineError(f"{name} not found in {where}")


def prompt_ids(seed: int, rid: str, n: int, hi: int, lo: int = 1000) -> list:
    """n deterministic token ids for request rid, in [lo, hi), avoiding special ids."""
    rng = random.Random(f"{seed}/{rid}")
    return [rng.randrange(lo, hi) for _ in range(n)]


def status_name(status) -> str:
    return getattr(status, "name", None) or str(status)


def finished_from_output(out, trace_id: str) -> replay.Finished:
    """A replay.Finished from a GenerationOutput (times stay on perf_counter)."""
    status = status_name(getattr(out, "status", None))
    err = getattr(out, "error", None)
    if err or status != "FINISHED":
        return replay.Finished(trace_id, [], error=f"status {status}: {err}")
    stamps = getattr(out, "timestamps", None)
    if stamps is None:
        return replay.Finished(trace_id, [], error="no per-token timestamps (record_timestamps not honoured)")
    lifespan = getattr(out, "lifespan", None) or (-1, -1)
    scheduled = float(lifespan[0]) if lifespan and lifespan[0] is not None and lifespan[0] > 0 else None
    return replay.Finished(trace_id, [float(t) for t in stamps], first_scheduled=scheduled, finish_reason="length")


def first_int(*values):
    """The first value that is a positive int (bools excluded), else None."""
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def jsonable(value, depth: int = 0):
    """A JSON-safe rendering of config values (enums by name, objects by str)."""
    if depth > 6:
        return str(value)
    if isinstance(value, enum.Enum):  # before int: IntEnum statuses render by name
        return value.name
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, depth + 1) for v in items]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name, None), depth + 1) for f in dataclasses.fields(value)}
    if hasattr(value, "__dict__") and not callable(value):
        return {k: jsonable(v, depth + 1) for k, v in sorted(vars(value).items()) if not k.startswith("_")}
    text = str(value)
    return text.replace("torch.", "") if text.startswith("torch.") else text


def scheduler_name(scheduler, configured) -> str:
    """'fifo' or 'prefill_first' from the scheduler object's class, else the configured name."""
    cls = type(scheduler).__name__ if scheduler is not None else ""
    known = {"FIFOScheduler": "fifo", "PrefillFirstScheduler": "prefill_first"}
    return known.get(cls) or (str(configured) if configured else cls or "unknown")


def resolved_settings(mgr, cbc, model, model_name: str) -> dict:
    """validation.EngineSettings fields read from a started manager; None = unknown."""
    bp = getattr(mgr, "batch_processor", None)
    cache = getattr(bp, "cache", None)
    cfg = getattr(mgr, "continuous_batching_config", None) or cbc
    runner = getattr(bp, "model_runner", None)
    graphs = None
    if runner is not None and hasattr(runner, "use_cuda_graph_decode"):
        graphs = bool(runner.use_cuda_graph_decode or getattr(runner, "use_cuda_graph_varlen", False))
    elif isinstance(getattr(cfg, "use_cuda_graph", None), (bool, tuple)):
        graphs = any(cfg.use_cuda_graph) if isinstance(cfg.use_cuda_graph, tuple) else cfg.use_cuda_graph
    attn = getattr(getattr(model, "config", None), "_attn_implementation", None)
    dtype = str(getattr(model, "dtype", "")).replace("torch.", "") or None
    sched = scheduler_name(getattr(bp, "scheduler", None), getattr(cfg, "scheduler_type", None))
    return {
        "scheduler": f"hfcb:{sched}",
        "token_budget": first_int(getattr(bp, "max_batch_tokens", None), getattr(cache, "max_batch_tokens", None)),
        "max_seqs": first_int(getattr(getattr(bp, "scheduler", None), "max_requests_per_batch", None),
                              getattr(cfg, "max_requests_per_batch", None)),
        "block_size": first_int(getattr(cache, "block_size", None), getattr(cfg, "block_size", None)),
        "num_blocks": first_int(getattr(cache, "num_blocks", None), getattr(cfg, "num_blocks", None)),
        "tp": 1,
        "pp": 1,
        "attention_backend": attn,
        "dtype": dtype,
        "cuda_graphs": graphs,
        "model": model_name,
    }


def step_items(states, trace_ids: dict) -> list:
    """The requests of a scheduled batch as step items: trace id, prefill query tokens
    (0 for a decode), decode (1 or 0) and cached tokens before the step.

    Read after prepare_next_batch, when position_offset has already advanced by the
    query length. A request is decoding when it has generated a token already
    (transformers 5.17 marks a request DECODING as soon as its last prefill chunk is
    scheduled, so the status cannot tell); a one-token prompt's prefill therefore
    counts as a prefill of one token.
    """
    items = []
    for item in states or []:
        st = getattr(item, "state", item)
        q = getattr(item, "query_length", None)
        if not isinstance(q, int):
            q = len(getattr(st, "tokens_to_process", None) or [])
        offset = getattr(st, "position_offset", None)
        past = max(0, offset - q) if isinstance(offset, int) else 0
        eid = getattr(st, "request_id", None)
        decoding = q == 1 and len(getattr(st, "generated_tokens", None) or []) > 0
        rec = {"id": trace_ids.get(eid, str(eid))}
        if decoding:
            rec["decode"] = 1
        else:
            rec["prefill"] = q
        if past:
            rec["past"] = past
        items.append(rec)
    return items


def graph_state(io) -> tuple:
    """(graph key, graph cache size) of the engine's inputs-and-outputs object after
    a step's forward: transformers 5.17 keys CUDA graphs on _get_graph_key(), i.e.
    (padded query tokens, padded cached tokens read, padded max key length) on the
    varlen path and (padded query tokens,) on the decode fast path, and keeps them in
    a plain dict (CudaGraphBuffer._storage, no eviction). None where not readable."""
    key = None
    getter = getattr(io, "_get_graph_key", None)
    if callable(getter):
        try:
            key = tuple(int(k) for k in getter())
        except (TypeError, ValueError, AttributeError):
            key = None
    storage = getattr(getattr(io, "graphs", None), "_storage", None)
    size = len(storage) if isinstance(storage, dict) else None
    return key, size


def shape_fields(key, q_tokens: int, kv_read: int, graphs_before, graphs_after) -> dict:
    """The step line's shape fields from the graph key and the cache sizes around it."""
    out = {"q_tokens": q_tokens, "kv_read": kv_read}
    if key:
        out["q_pad"] = key[0]
        if len(key) >= 3:
            out["kv_pad"], out["seqk_pad"] = key[1], max(key[2:])
    if graphs_after is not None:
        out["graphs"] = graphs_after
        out["captured"] = graphs_before is not None and graphs_after > graphs_before
    return out


def dumps(value) -> str:
    return json.dumps(jsonable(value), sort_keys=True)
