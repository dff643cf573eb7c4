"""Tensor-parallel launch of the hfcb driver (the import-free parts).

With ``--tp N`` the driver runs as N processes under ``python -m torch.distributed.run
--standalone --nproc-per-node N`` (simval's Go side builds that command line). Every
rank loads its shard of the model (``from_pretrained(dir, tp_plan="auto")``) and runs
the continuous-batching manager; rank 0 is transformers' "TP driver": it owns the
request queue, broadcasts scheduling decisions to the other ranks and is the only rank
that speaks the replay protocol on stdout. The other ranks are silent followers.

Random weights under TP: ``from_pretrained`` shards a checkpoint while loading it, so
rank 0 first saves a random-weight checkpoint of the target's configuration (built
with ``_from_config``, as the one-GPU driver builds its model) into a folder that is
reused when its marker file matches, and every rank loads that.

This module holds what can be tested without torch: the launch environment, the model
configuration from the target's model spec, the divisibility and sharding checks and
the interconnect read from ``nvidia-smi topo -m``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

import replay

# transformers warns that NCCL graph mixing must be off before init_process_group when
# continuous batching runs under TP with CUDA graphs (distributed.py,
# maybe_warn_nccl_graph_mixing); the Go side sets it, the driver sets it again.
GRAPH_MIXING_ENV = "NCCL_GRAPH_MIXING_SUPPORT"

MARKER_FILE = "simval-random-checkpoint.json"

# Constants of the Qwen3 family that the target's model spec does not carry.
QWEN3_FIXED = {
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "attention_bias": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
}

# simkit.ModelSpec's JSON fields → Qwen3Config's (the rest are checked, not passed).
SPEC_TO_CONFIG = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "q_heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "intermediate": "intermediate_size",
    "vocab": "vocab_size",
    "tied_embeddings": "tie_word_embeddings",
}
SPEC_FIELDS = set(SPEC_TO_CONFIG) | {"name", "gated_mlp", "post_attn_norm", "lm_head", "dtype"}
# Optional fields (simkit.ModelSpec omits them when zero).
SPEC_OPTIONAL = {"max_context"}
SPEC_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "float16": "float16", "bfloat16": "bfloat16"}


@dataclasses.dataclass(frozen=True)
class Launch:
    """Where this process sits in a torchrun launch (rank 0 of 1 without one)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def leader(self) -> bool:
        return self.rank == 0


def launch_from_env(environ) -> Launch:
    """The launch from torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE): all three or
    none; a partial or inconsistent set is an error naming what is wrong."""
    names = ("RANK", "LOCAL_RANK", "WORLD_SIZE")
    present = [n for n in names if n in environ]
    if not present:
        return Launch()
    if len(present) != len(names):
        missing = [n for n in names if n not in environ]
        raise replay.EngineError(f"torchrun launch: {present} are set but {missing} are not")
    values = {}
    for n in names:
        try:
            values[n] = int(environ[n])
        except ValueError:
            raise replay.EngineError(f"torchrun launch: {n}={environ[n]!r} is not an integer") from None
    rank, local, world = values["RANK"], values["LOCAL_RANK"], values["WORLD_SIZE"]
    if world < 1 or not 0 <= rank < world or not 0 <= local < world:
        raise replay.EngineError(f"torchrun launch: RANK {rank}, LOCAL_RANK {local}, WORLD_SIZE {world} are inconsistent")
    return Launch(rank=rank, local_rank=local, world_size=world)


def check_tp(launch: Launch, tp: int) -> None:
    """--tp must be the launch's world size: one tensor-parallel group, no data parallelism."""
    if tp < 1:
        raise replay.EngineError(f"--tp {tp}: want >= 1")
    if launch.world_size != tp:
        how = "run it under python -m torch.distributed.run --nproc-per-node %d" % tp if launch.world_size == 1 \
            else "the launch and --tp must agree"
        raise replay.EngineError(f"--tp {tp} but the launch has WORLD_SIZE {launch.world_size}: {how}")


def config_from_spec(text: str, dtype: str) -> tuple:
    """(model name, Qwen3Config keyword arguments) from a target's model spec (the JSON of
    simkit.ModelSpec). Unknown fields, a missing field, a non-Qwen3 shape (no gated MLP,
    no post-attention norm, no LM head) or a dtype other than --dtype are errors."""
    try:
        spec = json.loads(text)
    except ValueError as e:
        raise replay.EngineError(f"--model-spec: not JSON: {e}") from None
    if not isinstance(spec, dict):
        raise replay.EngineError("--model-spec: want a JSON object")
    unknown, missing = sorted(set(spec) - SPEC_FIELDS - SPEC_OPTIONAL), sorted(SPEC_FIELDS - set(spec))
    if unknown or missing:
        raise replay.EngineError(f"--model-spec: unknown fields {unknown}, missing fields {missing}")
    problems = []
    for key in ("layers", "hidden", "q_heads", "kv_heads", "head_dim", "intermediate", "vocab"):
        v = spec[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            problems.append(f"{key} {v!r} is not a positive integer")
    for key in ("gated_mlp", "post_attn_norm", "lm_head"):
        if spec[key] is not True:
            problems.append(f"{key} is {spec[key]!r}: the driver builds Qwen3 (gated MLP, post-attention norm, LM head)")
    if not isinstance(spec["tied_embeddings"], bool):
        problems.append(f"tied_embeddings {spec['tied_embeddings']!r} is not a boolean")
    if SPEC_DTYPES.get(spec["dtype"]) != dtype:
        problems.append(f"dtype {spec['dtype']!r} differs from --dtype {dtype}")
    if not isinstance(spec["name"], str) or not spec["name"]:
        problems.append("name is empty")
    ctx = spec.get("max_context", QWEN3_FIXED["max_position_embeddings"])
    if isinstance(ctx, bool) or not isinstance(ctx, int) or ctx < 1:
        problems.append(f"max_context {ctx!r} is not a positive integer")
    if problems:
        raise replay.EngineError("--model-spec: " + "; ".join(problems))
    kwargs = {cfg: spec[key] for key, cfg in SPEC_TO_CONFIG.items()}
    kwargs.update(QWEN3_FIXED)
    kwargs["max_position_embeddings"] = ctx  # the target's model.max_context
    return spec["name"], kwargs


def check_divisible(kwargs: dict, tp: int) -> None:
    """Column/row sharding splits query heads, KV heads and the MLP width over the ranks;
    the paged cache refuses KV heads that tp does not divide."""
    bad = [f"{k} {kwargs[k]}" for k in ("num_attention_heads", "num_key_value_heads", "intermediate_size")
           if kwargs[k] % tp]
    if bad:
        raise replay.EngineError(f"tp {tp} does not divide {', '.join(bad)}")


def check_sharded(down_proj_local_shape, kwargs: dict, tp: int) -> None:
    """Proof that loading sharded the model: layer 0's mlp.down_proj (rowwise) holds
    hidden × intermediate/tp on each rank. A replicated model fails here instead of
    running N full copies that would time as TP."""
    want = (kwargs["hidden_size"], kwargs["intermediate_size"] // tp)
    got = tuple(int(d) for d in down_proj_local_shape)
    if got != want:
        raise replay.EngineError(f"layer 0 mlp.down_proj is {got} on this rank, want {want} for tp {tp}: "
                                 "the model was not sharded by tp_plan=\"auto\"")


def checkpoint_key(name: str, kwargs: dict, seed: int, dtype: str) -> dict:
    """What a reusable random checkpoint must have been made from."""
    return {"name": name, "config": dict(sorted(kwargs.items())), "seed": seed, "dtype": dtype}


# Beyond NCCL_*: switches that change how collectives run (NVLink multicast, NVLS).
COLLECTIVE_ENV = ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "NVSHMEM_DISABLE_NVLS")


def collective_env(environ) -> dict:
    """The environment that shapes the collectives (every NCCL_* variable, and the
    multicast switches): NCCL_NVLS_ENABLE=0, for one, changes the all-reduce algorithm
    on NVLink hosts, so it is provenance of every TP measurement."""
    return {k: environ[k] for k in sorted(environ) if k.startswith("NCCL_") or k in COLLECTIVE_ENV}


def read_marker(path: str):
    """The key a random checkpoint folder was written for, or None (no or unreadable marker)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_marker(path: str, key: dict) -> None:
    """Written last, after the checkpoint's files: a folder with a matching marker is complete."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(key, f, sort_keys=True)
    os.replace(tmp, path)


_TOPO_LINK = re.compile(r"^(X|NV\d+|PIX|PXB|PHB|NODE|SYS|SOC)$")
LINK_MEANING = {
    "PIX": "PCIe, at most one PCIe bridge",
    "PXB": "PCIe, several PCIe bridges",
    "PHB": "PCIe through a host bridge",
    "NODE": "PCIe and the interconnect between host bridges within a NUMA node",
    "SYS": "PCIe and the SMP interconnect between NUMA nodes",
    "SOC": "PCIe and the SMP interconnect between NUMA nodes",
}


def parse_topo(text: str) -> dict:
    """The GPU-to-GPU links of ``nvidia-smi topo -m``: {"GPU0-GPU1": "NV18", …} for every
    pair of GPUs, read from the matrix's header and GPU rows (NIC rows and the legend
    are ignored)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return {}
    header = lines[0].split()
    gpus = [h for h in header if re.fullmatch(r"GPU\d+", h)]
    links = {}
    for ln in lines[1:]:
        cells = ln.split()
        if not cells or not re.fullmatch(r"GPU\d+", cells[0]):
            continue
        row = cells[1:1 + len(header)]
        for col, cell in zip(header, row):
            if col in gpus and col != cells[0] and _TOPO_LINK.match(cell):
                a, b = sorted((cells[0], col), key=lambda g: int(g[3:]))
                links[f"{a}-{b}"] = cell
    return links


def describe_link(link: str) -> str:
    """"NVLink (NV18: 18 bonded links)" or the PCIe path nvidia-smi names."""
    m = re.fullmatch(r"NV(\d+)", link or "")
    if m:
        return f"NVLink (NV{m.group(1)}: {m.group(1)} bonded links)"
    return LINK_MEANING.get(link, f"unknown ({link!r})")


def interconnect(links: dict, world_size: int, p2p) -> dict:
    """The interconnect record for meta.engine_config.distributed: the links between the
    first world_size GPUs, in words, and whether torch reported peer access."""
    pairs = {k: v for k, v in links.items() if all(int(g[3:]) < world_size for g in k.split("-"))}
    kinds = sorted({describe_link(v) for v in pairs.values()})
    return {
        "links": dict(sorted(pairs.items())),
        "summary": "; ".join(kinds) if kinds else "unknown (nvidia-smi topo -m gave no GPU pairs)",
        "p2p": p2p,
    }
