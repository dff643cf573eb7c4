"""Tests of the tensor-parallel launch's import-free parts (hfcb_dist.py) and of the
replay loop's follower ranks, without torch.

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import contextlib
import io
import json
import os
import tempfile
import unittest

import fake_engine
import hfcb_api as api
import hfcb_dist as dist
import hfcb_driver
import replay
from test_replay import parse_args, req, write_trace

# The target's model spec as Go marshals simkit.ModelSpec (json tags), for the two models.
QWEN3_0_6B_SPEC = {"name": "Qwen/Qwen3-0.6B", "layers": 28, "hidden": 1024, "q_heads": 16, "kv_heads": 8,
                   "head_dim": 128, "intermediate": 3072, "vocab": 151936, "tied_embeddings": True,
                   "gated_mlp": True, "post_attn_norm": True, "lm_head": True, "dtype": "bf16"}
QWEN3_8B_SPEC = dict(QWEN3_0_6B_SPEC, name="Qwen/Qwen3-8B", layers=36, hidden=4096, q_heads=32, intermediate=12288,
                     tied_embeddings=False)

# nvidia-smi topo -m on a two-GPU NVLink host (the layout of its output, with a NIC).
TOPO_NVLINK = """\tGPU0\tGPU1\tNIC0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID
GPU0\t X \tNV18\tSYS\t0-15\t0\t\tN/A
GPU1\tNV18\t X \tSYS\t0-15\t0\t\tN/A
NIC0\tSYS\tSYS\t X \t\t\t\t

Legend:

  X    = Self
  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)
  NV#  = Connection traversing a bonded set of # NVLinks
"""
TOPO_PCIE = """\tGPU0\tGPU1\tGPU2\tCPU Affinity
GPU0\t X \tPXB\tSYS\t0-31
GPU1\tPXB\t X \tSYS\t0-31
GPU2\tSYS\tSYS\t X \t32-63
"""


class LaunchTest(unittest.TestCase):
    def test_no_torchrun_variables_is_one_process(self):
        self.assertEqual(dist.launch_from_env({}), dist.Launch(0, 0, 1))
        self.assertTrue(dist.launch_from_env({}).leader)

    def test_reads_torchrun_variables(self):
        got = dist.launch_from_env({"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"})
        self.assertEqual(got, dist.Launch(1, 1, 2))
        self.assertFalse(got.leader)

    def test_partial_or_bad_variables_are_named(self):
        cases = [
            ({"RANK": "0", "WORLD_SIZE": "2"}, "['RANK', 'WORLD_SIZE'] are set but ['LOCAL_RANK'] are not"),
            ({"RANK": "x", "LOCAL_RANK": "0", "WORLD_SIZE": "2"}, "RANK='x' is not an integer"),
            ({"RANK": "2", "LOCAL_RANK": "0", "WORLD_SIZE": "2"}, "RANK 2, LOCAL_RANK 0, WORLD_SIZE 2 are inconsistent"),
        ]
        for env, want in cases:
            with self.assertRaises(replay.EngineError) as ctx:
                dist.launch_from_env(env)
            self.assertIn(want, str(ctx.exception))

    def test_tp_must_be_the_world_size(self):
        dist.check_tp(dist.Launch(0, 0, 2), 2)
        dist.check_tp(dist.Launch(), 1)
        with self.assertRaises(replay.EngineError) as ctx:
            dist.check_tp(dist.Launch(), 2)
        self.assertIn("--tp 2 but the launch has WORLD_SIZE 1: run it under python -m torch.distributed.run "
                      "--nproc-per-node 2", str(ctx.exception))
        with self.assertRaises(replay.EngineError) as ctx:
            dist.check_tp(dist.Launch(0, 0, 4), 2)
        self.assertIn("the launch and --tp must agree", str(ctx.exception))

    def test_launch_rank_reads_rank(self):
        self.assertEqual(replay.launch_rank({}), 0)
        self.assertEqual(replay.launch_rank({"RANK": "3"}), 3)
        self.assertEqual(replay.launch_rank({"RANK": "?"}), 0)


class ModelSpecTest(unittest.TestCase):
    def test_the_0_6b_spec_gives_the_drivers_own_configuration(self):
        name, kwargs = dist.config_from_spec(json.dumps(QWEN3_0_6B_SPEC), "bfloat16")
        self.assertEqual(name, "Qwen/Qwen3-0.6B")
        self.assertEqual(kwargs, api.QWEN3_0_6B)

    def test_the_8b_spec(self):
        name, kwargs = dist.config_from_spec(json.dumps(QWEN3_8B_SPEC), "bfloat16")
        self.assertEqual(name, "Qwen/Qwen3-8B")
        want = dict(api.QWEN3_0_6B, num_hidden_layers=36, hidden_size=4096, num_attention_heads=32,
                    intermediate_size=12288, tie_word_embeddings=False)
        self.assertEqual(kwargs, want)
        dist.check_divisible(kwargs, 2)

    def test_bad_specs_say_what_is_wrong(self):
        cases = [
            ("[1]", "want a JSON object"),
            (json.dumps(dict(QWEN3_8B_SPEC, colour="red")), "unknown fields ['colour'], missing fields []"),
            (json.dumps({k: v for k, v in QWEN3_8B_SPEC.items() if k != "vocab"}), "missing fields ['vocab']"),
            (json.dumps(dict(QWEN3_8B_SPEC, gated_mlp=False)), "gated_mlp is False: the driver builds Qwen3"),
            (json.dumps(dict(QWEN3_8B_SPEC, layers=0)), "layers 0 is not a positive integer"),
            (json.dumps(dict(QWEN3_8B_SPEC, dtype="fp16")), "dtype 'fp16' differs from --dtype bfloat16"),
        ]
        for text, want in cases:
            with self.assertRaises(replay.EngineError) as ctx:
                dist.config_from_spec(text, "bfloat16")
            self.assertIn(want, str(ctx.exception))

    def test_tp_must_divide_heads_and_mlp_width(self):
        _, kwargs = dist.config_from_spec(json.dumps(QWEN3_8B_SPEC), "bfloat16")
        with self.assertRaises(replay.EngineError) as ctx:
            dist.check_divisible(kwargs, 3)
        self.assertEqual(str(ctx.exception), "tp 3 does not divide num_attention_heads 32, num_key_value_heads 8")

    def test_sharding_is_checked_on_the_rowwise_down_projection(self):
        _, kwargs = dist.config_from_spec(json.dumps(QWEN3_8B_SPEC), "bfloat16")
        dist.check_sharded((4096, 6144), kwargs, 2)
        with self.assertRaises(replay.EngineError) as ctx:
            dist.check_sharded((4096, 12288), kwargs, 2)
        self.assertIn("is (4096, 12288) on this rank, want (4096, 6144) for tp 2", str(ctx.exception))


class CheckpointMarkerTest(unittest.TestCase):
    def test_marker_round_trips_and_a_changed_model_does_not_match(self):
        _, kwargs = dist.config_from_spec(json.dumps(QWEN3_8B_SPEC), "bfloat16")
        key = dist.checkpoint_key("Qwen/Qwen3-8B", kwargs, 0, "bfloat16")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, dist.MARKER_FILE)
            self.assertIsNone(dist.read_marker(path))
            dist.write_marker(path, key)
            self.assertEqual(dist.read_marker(path), key)
            self.assertNotEqual(dist.read_marker(path), dist.checkpoint_key("Qwen/Qwen3-8B", kwargs, 1, "bfloat16"))
            self.assertEqual(os.listdir(d), [dist.MARKER_FILE], "no temporary file left")


class InterconnectTest(unittest.TestCase):
    def test_nvlink_pair(self):
        links = dist.parse_topo(TOPO_NVLINK)
        self.assertEqual(links, {"GPU0-GPU1": "NV18"})
        got = dist.interconnect(links, 2, {"GPU0-GPU1": True})
        self.assertEqual(got, {"links": {"GPU0-GPU1": "NV18"}, "summary": "NVLink (NV18: 18 bonded links)",
                               "p2p": {"GPU0-GPU1": True}})

    def test_pcie_links_of_the_launched_gpus_only(self):
        links = dist.parse_topo(TOPO_PCIE)
        self.assertEqual(links, {"GPU0-GPU1": "PXB", "GPU0-GPU2": "SYS", "GPU1-GPU2": "SYS"})
        got = dist.interconnect(links, 2, {})
        self.assertEqual(got["links"], {"GPU0-GPU1": "PXB"})
        self.assertEqual(got["summary"], "PCIe, several PCIe bridges")

    def test_no_topology_says_unknown(self):
        self.assertEqual(dist.parse_topo(""), {})
        self.assertIn("unknown", dist.interconnect({}, 2, {})["summary"])


def hfcb_args(*argv):
    p = hfcb_driver.parser()
    replay.add_common_args(p)
    return p.parse_args(["--trace", "t.jsonl", *argv])


class HFCBAdapterArgsTest(unittest.TestCase):
    """The adapter's argument checks run before torch is imported."""

    def test_model_spec_names_the_model_and_its_configuration(self):
        ad = hfcb_driver.HFCBAdapter(hfcb_args("--model-spec", json.dumps(QWEN3_8B_SPEC)))
        self.assertEqual(ad.model_name, "Qwen/Qwen3-8B")
        self.assertEqual(ad.config_kwargs["num_hidden_layers"], 36)
        self.assertEqual(hfcb_driver.HFCBAdapter(hfcb_args()).config_kwargs, api.QWEN3_0_6B)

    def test_tp_outside_its_launch_and_model_with_spec_are_refused(self):
        cases = [
            (("--tp", "2"), "--tp 2 but the launch has WORLD_SIZE 1"),
            (("--model", "/m", "--model-spec", json.dumps(QWEN3_8B_SPEC)), "--model and --model-spec exclude"),
        ]
        for argv, want in cases:
            with self.assertRaises(replay.EngineError) as ctx:
                hfcb_driver.HFCBAdapter(hfcb_args(*argv))
            self.assertIn(want, str(ctx.exception))


class CollectiveEnvTest(unittest.TestCase):
    def test_keeps_nccl_and_multicast_switches_only(self):
        env = {"NCCL_NVLS_ENABLE": "0", "NCCL_GRAPH_MIXING_SUPPORT": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
               "HOME": "/root", "NVSHMEM_DISABLE_NVLS": "1"}
        self.assertEqual(list(dist.collective_env(env)), ["NCCL_GRAPH_MIXING_SUPPORT", "NCCL_NVLS_ENABLE",
                                                          "NVSHMEM_DISABLE_NVLS", "TORCH_SYMM_MEM_DISABLE_MULTICAST"])


class FollowerTest(unittest.TestCase):
    def test_a_follower_loads_follows_and_writes_no_protocol_line(self):
        path = write_trace([req("a", 0.0), req("b", 0.1)])
        self.addCleanup(os.unlink, path)
        clock = fake_engine.FakeClock()
        engine = fake_engine.FakeEngine(clock=clock, sleep=clock.sleep, tp=2,
                                        environ={"RANK": "1", "LOCAL_RANK": "1", "WORLD_SIZE": "2"})
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = replay.run_follower(engine, parse_args(path))
        self.assertEqual(code, 0)
        self.assertIn("fake engine: rank 1 of 2 following", err.getvalue())
        self.assertEqual(engine.submissions, [], "only rank 0 submits")
        self.assertEqual(engine.resolved_settings()["tp"], 2)

    def test_an_engine_that_cannot_follow_fails_on_stderr(self):
        path = write_trace([req("a", 0.0)])
        self.addCleanup(os.unlink, path)

        class Loader(replay.EngineAdapter):
            def load(self):
                pass

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = replay.run_follower(Loader(), parse_args(path))
        self.assertEqual(code, 1)
        self.assertIn("follower rank: EngineError: engine abstract cannot run as a follower rank", err.getvalue())


if __name__ == "__main__":
    unittest.main()
