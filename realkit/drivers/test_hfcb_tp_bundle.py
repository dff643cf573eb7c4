"""Unit tests of hfcb_tp_bundle's pure parts (no torch, no GPU)."""

import csv
import os
import tempfile
import unittest

import hfcb_profile_model as ph
import hfcb_tp_bundle as tb


def step(start, dur, items, warmup=False):
    return {"start_s": start, "duration_s": dur, "items": items, "warmup": warmup, "q_tokens": 16, "kv_read": 0}


class IdlePollTest(unittest.TestCase):
    def test_admissions_count_polls_from_the_last_steps_end(self):
        # The engine idles from 1.0; a request arriving at 1.25 is scheduled at the third
        # poll of 0.102 s, 1.306; one arriving while the engine is busy is not an admission.
        rep = {"records": [{"id": "a", "arrival_s": 0.0, "first_scheduled_s": 0.0},
                           {"id": "b", "arrival_s": 1.25, "first_scheduled_s": 1.306}],
               "steps": [step(0.0, 1.0, [{"id": "a", "prefill": 16}]),
                         step(1.25, 0.08, [{"id": "b", "prefill": 16}])]}
        adm = tb.idle_admissions([rep])
        self.assertEqual(len(adm), 1)
        k, wait = adm[0]
        self.assertEqual(k, 3)
        self.assertAlmostEqual(wait, 0.306)
        self.assertAlmostEqual(tb.poll_period([(3, 0.306), (6, 0.612)]), 0.102)

    def test_tick_wait_is_to_the_first_poll_after_the_start(self):
        self.assertAlmostEqual(tb.tick_wait(1.25, 1.0, 0.1), 0.05)
        self.assertAlmostEqual(tb.tick_wait(1.01, 1.0, 0.1), 0.09)
        self.assertAlmostEqual(tb.tick_wait(1.3, 1.0, 0.1), 0.0)

    def test_run_steps_take_the_wait_out_of_an_admission_step(self):
        rep = {"records": [{"id": "b", "arrival_s": 1.25, "first_scheduled_s": 1.306}],
               "steps": [step(0.0, 1.0, [{"id": "a", "decode": 1}]), step(1.0004, 0.02, [{"id": "a", "decode": 1}]),
                         step(1.25, 0.08, [{"id": "b", "prefill": 16}])]}
        steps, loop_ms = tb.run_steps({"repetitions": [rep]}, 0.102)
        self.assertAlmostEqual(steps[2]["wall_ms"], 80 - 56, places=6, msg="scheduled 56 ms into the step")
        self.assertAlmostEqual(loop_ms, 0.4, places=6)


class TablesTest(unittest.TestCase):
    def test_rank_tables_take_the_full_models_shapes_and_tp(self):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "a.csv"), os.path.join(d, "b.csv")
            with open(src, "w", newline="") as f:
                csv.writer(f).writerows([["n_head", "n_kv_head", "num_tensor_parallel_workers", "time"],
                                         ["8", "4", "1", "0.5"]])
            tb.rank_table_as_tp(src, dst, dict(ph.MODEL), 2)
            rows = ph.read_csv_rows(dst)
        self.assertEqual(rows, [{"n_head": "16", "n_kv_head": "8", "num_tensor_parallel_workers": "2", "time": "0.5"}])

    def test_budget_row_is_extrapolated_and_said(self):
        rows = [{"batch_size": 1, "num_tokens": 4096, "cpu": 6.0, "count": 2},
                {"batch_size": 1, "num_tokens": 8000, "cpu": 8.0, "count": 2}]
        out, note = tb.with_budget_row(rows, 8192)
        self.assertEqual(out[-1]["num_tokens"], 8192)
        self.assertAlmostEqual(out[-1]["cpu"], 8.0 + 2.0 / 3904 * 192)
        self.assertIn("extrapolated", note)
        self.assertEqual(tb.with_budget_row(out, 8192), (out, ""), "nothing to add at the budget")


if __name__ == "__main__":
    unittest.main()


class CommittedBundleTest(unittest.TestCase):
    """The TP target's committed profile is what the builder writes from its
    committed measurements, byte for byte (rebuild: hfcb_tp_bundle.py TARGET_DIR)."""

    TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "targets", "catalog",
                          "h200x2-hfcb-tp2-qwen3-0.6b")

    def test_rebuild_gives_the_committed_bytes(self):
        import shutil

        with tempfile.TemporaryDirectory() as d:
            for sub in ("measured", "dev"):
                shutil.copytree(os.path.join(self.TARGET, sub), os.path.join(d, sub))
            tb.build(d)
            for name in sorted(os.listdir(os.path.join(self.TARGET, "profile"))):
                with open(os.path.join(self.TARGET, "profile", name), "rb") as f:
                    want = f.read()
                with open(os.path.join(d, "profile", name), "rb") as f:
                    self.assertEqual(f.read(), want, f"profile/{name} differs from a rebuild")
