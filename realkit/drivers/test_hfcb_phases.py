"""Unit tests of hfcb_phases (no torch, no GPU: a stand-in for torch.cuda)."""

import gc
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
