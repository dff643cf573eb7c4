"""Tests of hfcb_polls.PollLog against a stand-in manager and batch processor."""

import json
import os
import tempfile
import threading
import types
import unittest

import hfcb_polls


class Processor:
    def __init__(self):
        self.calls = 0

    def prepare_next_batch(self):
        self.calls += 1
        return self.calls % 2 == 0


class PollLogTest(unittest.TestCase):
    def test_logs_the_event_and_prepare_calls_per_rank(self):
        folder = tempfile.mkdtemp()
        mgr = types.SimpleNamespace(_has_new_requests=threading.Event())
        mgr._has_new_requests.set()  # a request added before the log was installed
        cls = type("Proc", (Processor,), {})
        log = hfcb_polls.PollLog(folder, 1)
        log.install(mgr, cls)
        self.assertTrue(mgr._has_new_requests.wait(timeout=0.01), "the pending wake-up is kept")
        mgr._has_new_requests.clear()
        self.assertFalse(mgr._has_new_requests.wait(timeout=0.001))
        bp = cls()
        self.assertEqual([bp.prepare_next_batch(), bp.prepare_next_batch()], [False, True])
        mgr._has_new_requests.set()
        log.write()
        with open(os.path.join(folder, "rank1.jsonl")) as f:
            events = [json.loads(line) for line in f]
        self.assertEqual([(e["kind"], e.get("value")) for e in events],
                         [("wait", True), ("clear", None), ("wait", False), ("prepare", False), ("prepare", True),
                          ("set", None)])
        self.assertTrue(all(e["end"] >= e["t"] for e in events if "end" in e))
        self.assertFalse(os.path.exists(os.path.join(folder, "source.txt")), "only rank 0 writes the source")

    def test_refuses_a_manager_without_the_event(self):
        with self.assertRaises(RuntimeError):
            hfcb_polls.PollLog(tempfile.mkdtemp(), 0).install(types.SimpleNamespace(), Processor)

    def test_rank0_writes_the_source_or_why_not_for_every_function(self):
        folder = tempfile.mkdtemp()
        hfcb_polls.PollLog(folder, 0).write()
        with open(os.path.join(folder, "source.txt")) as f:
            text = f.read()
        for module, cls, names in hfcb_polls.SOURCES:
            if f"# {module}.{cls}: " in text:  # the module or class is missing here: said once, with why
                continue
            for name in names:
                self.assertTrue(f"def {name}(" in text or f"# {cls}.{name}: " in text, f"{cls}.{name}")

if __name__ == "__main__":
    unittest.main()
