"""Unit tests of hfcb_phases (no torch, no GPU: a stand-in for torch.cuda)."""

import gc
import os
import types
import unittest

from hfcb_phases import StepPhases


class FakeCuda:
    def __init__(self):
        self.allocs, self.frees, self.syncs = 0, 0, 0

    def memory_stats(self):
        return {"num_device_alloc": self.allocs, "num_device_free": self.frees}

    def synchronize(self):
        self.syncs += 1


class StepPhasesTest(unittest.TestCase):
    def setUp(self):
        self.cuda = FakeCuda()
        self.phases = StepPhases(types.SimpleNamespace(cuda=self.cuda))

    def test_capture_splits_eager_from_graph_and_counts_device_allocations(self):
        calls = []

        def capture(runner, forward_fn, stream, *args):
            forward_fn(*args)  # the eager run
            self.cuda.allocs += 3
            forward_fn(*args)  # the recorded run
            return "graph"

        wrapped = self.phases.wrap_capture(capture)
        self.phases.begin_step()
        self.assertEqual(wrapped(object(), lambda *a: calls.append(a), "stream", 1, 2), "graph")
        out = self.phases.take()
        self.assertEqual(calls, [(1, 2), (1, 2)])
        self.assertEqual(self.cuda.syncs, 1, "only the eager call is synchronised")
        self.assertIn("eager_ms", out)
        self.assertIn("graph_ms", out)
        self.assertGreaterEqual(out["eager_cpu_ms"], 0.0)
        self.assertGreaterEqual(out["eager_proc_cpu_ms"], 0.0)
        self.assertEqual((out["cuda_mallocs"], out["cuda_frees"]), (3, 0))
        self.assertEqual(self.phases.take(), {}, "take() resets")

    def test_timed_adds_even_when_the_method_raises(self):
        def boom():
            raise ValueError("x")

        self.phases.begin_step()
        with self.assertRaises(ValueError):
            self.phases.timed("prepare_ms", boom)()
        self.assertIn("prepare_ms", self.phases.take())

    def test_gc_probe_counts_full_collections(self):
        self.phases.install_gc_probe()
        try:
            self.phases.begin_step()
            gc.collect()
            out = self.phases.take()
        finally:
            gc.callbacks.remove(self.phases._gc_callback)
        self.assertGreaterEqual(out["gc_collections"], 1)
        self.assertGreaterEqual(out["gc_full"], 1)
        self.assertGreaterEqual(out["gc_full_max_ms"], 0.0)


if __name__ == "__main__":
    unittest.main()


class FirstUseCheckTest(unittest.TestCase):
    """hfcb_profile_fresh.first_use_check on the catalog target's bundle (no GPU)."""

    BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "targets", "catalog",
                          "h200-hfcb-qwen3-0.6b", "profile")

    def test_ratio_of_this_process_to_the_bundle(self):
        try:
            import hfcb_profile_fresh as fresh
        except ImportError as e:  # the profiler's modules import only the standard library at top level
            self.fail(f"hfcb_profile_fresh does not import without torch: {e}")
        steps = [{"capture": True, "graph_key": [64, 16384, 1024], "wall_ms": 2000.0, "n_req": 1, "q_tokens": 16,
                  "kv_read": 0},
                 {"capture": True, "graph_key": [64, 16384, 1024], "wall_ms": 100.0, "n_req": 8, "q_tokens": 8,
                  "kv_read": 100},
                 {"capture": True, "graph_key": [512, 16384, 1024], "wall_ms": 1500.0, "n_req": 1, "q_tokens": 512,
                  "kv_read": 0}]
        got = fresh.first_use_check(self.BUNDLE, steps)
        self.assertGreater(got["ratio"], 1.5, "a machine that compiles slower than the calibration lease")
        self.assertAlmostEqual(got["ratio"], (got["first_ms"] + got["variant_ms"]) /
                               (got["profile_first_ms"] + got["profile_variant_ms"]))
        self.assertEqual(fresh.first_use_check(self.BUNDLE, steps[:2]), {}, "no capture of the other variant")
