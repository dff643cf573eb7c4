"""Run microsoft/vidur (vidur.main) with what simval's targets need and Vidur lacks.

Usage: python3 vidur_launch.py --vidur-src SRC [--cache-keys FILE] -- <vidur.main flags>

Vidur at commit 7d47513 runs unchanged from SRC (its files are never edited). Before
vidur.main starts, this launcher supplies at run time:

- stand-in modules for the three imports Debian does not package, each used only when
  the real module is missing: ``wandb`` (Vidur calls it only when a W&B project is
  configured; the stand-in refuses that), ``ddsketch.ddsketch.DDSketch`` (batch-level
  CDF summaries, not request_metrics.csv; the stand-in keeps every value and answers
  exact quantiles) and ``plotly_express`` (the old name of ``plotly.express``);
- the model entry ``Qwen/Qwen3-0.6B`` (Vidur's model classes are matched on
  get_name());
- the device ``h200`` and the node ``h200_dgx`` (matched on str(get_type()), an enum
  that cannot be extended, so this module defines its own).

With --cache-keys it also records, as JSON, the predictor cache keys Vidur used:
``{"models": {op: hash}, "predictions": {op: hash}}``; the prediction tables are
``<cache>/<op>_<hash>_predictions.csv``. Recording wraps two cache look-up methods,
calling the originals unchanged.
"""

import argparse
import importlib
import importlib.util
import json
import sys
import types
from dataclasses import dataclass
from enum import IntEnum

# The GPUs and models this launcher adds, in Vidur's terms.
H200_FP16_TFLOPS = 989  # dense BF16/FP16 tensor-core peak of an H200 SXM
H200_MEMORY_GB = 141
H200_DGX_DEVICES = 8


def _missing(name):
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


class _Refused:
    """An attribute of a stand-in that must not be used in a simulation run."""

    def __init__(self, what):
        self._what = what

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "%s is a stand-in supplied by simval's Vidur launcher (the real module is not "
            "installed); run Vidur without the feature that calls it" % self._what
        )

    def __getattr__(self, name):
        return _Refused(self._what + "." + name)


class DDSketch:
    """Exact stand-in for ddsketch.DDSketch: keeps every value (the real one keeps a
    log-bucketed sketch with 0.1% relative accuracy)."""

    def __init__(self, relative_accuracy=None):
        self._values = []
        self._count = 0
        self._min = float("inf")
        self._max = float("-inf")
        self._sum = 0.0

    def add(self, value, weight=1.0):
        self._values.append(value)
        self._count += weight
        self._sum += value * weight
        self._min = min(self._min, value)
        self._max = max(self._max, value)

    def merge(self, other):
        for v in other._values:
            self.add(v)

    def get_quantile_value(self, quantile):
        if not self._values or quantile < 0 or quantile > 1:
            return None
        ordered = sorted(self._values)
        return ordered[int(round(quantile * (len(ordered) - 1)))]

    @property
    def count(self):
        return self._count

    @property
    def sum(self):
        return self._sum

    @property
    def avg(self):
        return self._sum / self._count if self._count else 0.0


def install_stand_ins():
    """Put stand-ins in sys.modules for the modules that cannot be imported; returns
    their names."""
    installed = []
    if _missing("wandb"):
        wandb = types.ModuleType("wandb")
        wandb.run = None
        for name in ("init", "log", "Table", "plot", "finish"):
            setattr(wandb, name, _Refused("wandb." + name))
        sys.modules["wandb"] = wandb
        installed.append("wandb")
    if _missing("ddsketch"):
        pkg = types.ModuleType("ddsketch")
        mod = types.ModuleType("ddsketch.ddsketch")
        mod.DDSketch = DDSketch
        pkg.DDSketch = DDSketch
        pkg.ddsketch = mod
        sys.modules["ddsketch"] = pkg
        sys.modules["ddsketch.ddsketch"] = mod
        installed.append("ddsketch")
    if _missing("plotly_express"):
        if not _missing("plotly"):
            sys.modules["plotly_express"] = importlib.import_module("plotly.express")
        else:
            px = types.ModuleType("plotly_express")
            px.__getattr__ = lambda name: _Refused("plotly_express." + name)
            sys.modules["plotly_express"] = px
        installed.append("plotly_express")
    return installed


class SimvalDeviceSKUType(IntEnum):
    """Devices Vidur's DeviceSKUType lacks; str() gives the lower-case name Vidur
    matches (--replica_config_device h200)."""

    H200 = 4

    def __str__(self):
        return self.name.lower()


class SimvalNodeSKUType(IntEnum):
    """Nodes Vidur's NodeSKUType lacks (--replica_config_network_device h200_dgx)."""

    H200_DGX = 6

    def __str__(self):
        return self.name.lower()


def define_entries():
    """Subclass Vidur's config classes with the entries simval's targets need; Vidur
    finds subclasses by walking __subclasses__(), so defining them registers them."""
    from vidur.config.device_sku_config import BaseDeviceSKUConfig
    from vidur.config.model_config import BaseModelConfig
    from vidur.config.node_sku_config import BaseNodeSKUConfig
    from vidur.types import ActivationType, NormType

    @dataclass
    class H200DeviceSKUConfig(BaseDeviceSKUConfig):
        fp16_tflops: int = H200_FP16_TFLOPS
        total_memory_gb: int = H200_MEMORY_GB

        @staticmethod
        def get_type():
            return SimvalDeviceSKUType.H200

    @dataclass
    class H200DgxNodeSKUConfig(BaseNodeSKUConfig):
        device_sku_type: SimvalDeviceSKUType = SimvalDeviceSKUType.H200
        num_devices_per_node: int = H200_DGX_DEVICES

        @staticmethod
        def get_type():
            return SimvalNodeSKUType.H200_DGX

    @dataclass
    class Qwen3_0_6BModelConfig(BaseModelConfig):
        # Qwen3-0.6B's config.json. Vidur has no head_dim field: it uses
        # embedding_dim // num_q_heads = 64 where the model has 128.
        num_layers: int = 28
        num_q_heads: int = 16
        num_kv_heads: int = 8
        embedding_dim: int = 1024
        mlp_hidden_dim: int = 3072
        max_position_embeddings: int = 40960
        use_gated_mlp: bool = True
        use_bias: bool = False
        use_qkv_bias: bool = False
        activation: ActivationType = ActivationType.SILU
        norm: NormType = NormType.RMS_NORM
        post_attn_norm: bool = True
        vocab_size: int = 151936
        is_neox_style: bool = True
        rope_theta: float = 1000000.0
        rope_scaling: dict = None
        partial_rotary_factor: float = 1.0
        no_tensor_parallel: bool = False

        @staticmethod
        def get_name():
            return "Qwen/Qwen3-0.6B"

    return [H200DeviceSKUConfig, H200DgxNodeSKUConfig, Qwen3_0_6BModelConfig]


def record_cache_keys(path):
    """Wrap the predictor's cache look-ups to note which keys the run used; the
    originals are called unchanged. The file is written at exit."""
    import atexit

    from vidur.execution_time_predictor.sklearn_execution_time_predictor import (
        SklearnExecutionTimePredictor as P,
    )

    keys = {"models": {}, "predictions": {}}

    def wrap(method, kind):
        original = getattr(P, method)

        def observed(self, model_name, model_hash, *args, **kwargs):
            keys[kind][str(model_name)] = model_hash
            return original(self, model_name, model_hash, *args, **kwargs)

        setattr(P, method, observed)

    wrap("_load_model_from_cache", "models")
    wrap("_load_model_predication_cache", "predictions")

    def write():
        with open(path, "w") as f:
            json.dump(keys, f, indent=1, sort_keys=True)
            f.write("\n")

    atexit.register(write)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vidur-src", required=True, help="Vidur's source folder (holds vidur/)")
    parser.add_argument("--cache-keys", help="write the predictor cache keys used here (JSON)")
    parser.add_argument("vidur_args", nargs=argparse.REMAINDER, help="-- then vidur.main's flags")
    args = parser.parse_args(argv)
    rest = args.vidur_args
    if rest and rest[0] == "--":
        rest = rest[1:]
    sys.path.insert(0, args.vidur_src)
    install_stand_ins()
    # __subclasses__() holds weak references: keep the entries alive for the run.
    entries = define_entries()
    if args.cache_keys:
        record_cache_keys(args.cache_keys)
    from vidur.main import main as vidur_main

    sys.argv = ["vidur.main"] + rest
    vidur_main()
    return entries


if __name__ == "__main__":
    main()
