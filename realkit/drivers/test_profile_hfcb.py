"""Tests of profile_hfcb's pure parts (no torch, no GPU).

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import contextlib
import csv
import importlib.util
import io
import os
import tempfile
import unittest

import hfcb_capture_model as cap
import hfcb_bundle_writers as bw
import hfcb_profile_model as ph
import profile_hfcb

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "simkit", "testdata", "hfcb-fixture")


def step_events(t, q=1, kv=16, n_req=1, dec=1, pre=0, capture=False, wall=0.023, launch=0.0014, wait=0.02):
    """Wrapper events of one engine step starting at t."""
    return [
        ("prep", t, t + 0.001, True),
        ("sched", t + 0.0001, t + 0.0002, (n_req, q, kv, dec, pre)),
        ("tensors", t + 0.0003, t + 0.0009, None),
        ("kwargs", t + 0.001, t + 0.0011, None),
        ("graph", t + 0.0012, t + 0.0012, capture),
        ("launch", t + 0.0011, t + 0.0011 + launch, None),
        ("wait", t + 0.0011 + launch, t + 0.0011 + launch + wait, None),
        ("update", t + wall - 0.0003, t + wall, None),
    ]


class PaddingTest(unittest.TestCase):
    def test_pad_to_interval(self):
        for size, interval, cap, want in [(0, 64, 8192, 64), (1, 64, 8192, 64), (64, 64, 8192, 64),
                                          (65, 64, 8192, 128), (9000, 64, 8192, 8192), (0, 16384, 978688, 16384),
                                          (16385, 16384, 978688, 32768), (978000, 16384, 978688, 978688)]:
            self.assertEqual(ph.pad_to_interval(size, interval, cap), want, (size, interval, cap))

    def test_padded_shape(self):
        self.assertEqual(ph.padded_shape(1, 12), (64, 16384, 64))
        self.assertEqual(ph.padded_shape(874, 8192), (896, 16384, 896))
        self.assertEqual(ph.padded_shape(8192, 0), (8192, 16384, 1024))
        self.assertEqual(ph.padded_shape(100, 40000, max_reqs=64), (128, 49152, 64))


class InterpTest(unittest.TestCase):
    def test_interp1(self):
        xs, ys = [1, 64, 128], [1.0, 2.0, 4.0]
        self.assertEqual(ph.interp1(xs, ys, 64), 2.0)
        self.assertAlmostEqual(ph.interp1(xs, ys, 96), 3.0)
        with self.assertRaisesRegex(ph.OutOfGrid, r"mlp.csv add: num_tokens 129 outside profiled range \[1, 128\]"):
            ph.interp1(xs, ys, 129, "mlp.csv add", "num_tokens")

    def test_interp2_bilinear(self):
        xs, ys = [64, 128], [16384, 32768]
        grid = [[1.0, 2.0], [3.0, 6.0]]
        self.assertEqual(ph.interp2(xs, ys, grid, 128, 16384), 3.0)
        self.assertAlmostEqual(ph.interp2(xs, ys, grid, 96, 24576), (1 + 2 + 3 + 6) / 4)
        with self.assertRaisesRegex(ph.OutOfGrid, "kv 65536 outside"):
            ph.interp2(xs, ys, grid, 64, 65536, "attention.csv", ("q", "kv"))


class FixtureTest(unittest.TestCase):
    """The profiler's kernel model and CPU scheme must predict what simkit's hfcb
    predictor predicts from the same bundle (simkit/hfcb_predictor_test.go)."""

    def setUp(self):
        self.b = ph.load_bundle(FIXTURE)

    def test_kernel_matches_go(self):
        k = self.b["kernel"]
        self.assertAlmostEqual(k.kernel_ms(1, 12), 19.2852, places=9)
        self.assertAlmostEqual(k.kernel_ms(10, 0), 19.2852, places=9)
        self.assertAlmostEqual(k.kernel_ms(874, 8192), 46.5228, places=9)

    def test_step_matches_go(self):
        self.assertAlmostEqual(ph.predict_step_ms(self.b, 1, 1, 12), 21.2876, places=9)
        self.assertAlmostEqual(ph.predict_step_ms(self.b, 7, 874, 8192), 46.5228 + 2.6 + 867 / 1024 + 1.6384,
                               places=9)
        self.assertAlmostEqual(ph.predict_step_ms(self.b, 1, 1, 12, cpu_overhead=False), 19.2852, places=9)
        self.assertEqual(self.b["slope"], 0.0002)

    def test_out_of_grid(self):
        with self.assertRaisesRegex(ph.OutOfGrid, "kv_cache_size 65536 outside"):
            self.b["kernel"].kernel_ms(3, 60000)
        with self.assertRaisesRegex(ph.OutOfGrid, "decode rows: batch_size 65 outside"):
            ph.predict_step_ms(self.b, 65, 65, 100)


class SeparableTest(unittest.TestCase):
    def test_decode_plus_single_request_rows(self):
        pts = {(1, 1): 2.0, (8, 8): 2.7, (1, 1025): 3.0, (9, 520): 50.0}
        self.assertAlmostEqual(ph.separable(pts, 1, 1), 2.0)
        self.assertAlmostEqual(ph.separable(pts, 8, 8 + 512), 2.7 + 0.5)
        self.assertAlmostEqual(ph.separable(pts, 4, 4), 2.0 + 0.3)

    def test_needs_batch_one_decode(self):
        with self.assertRaisesRegex(ph.ProfileError, "starting at batch_size 1"):
            ph.separable({(2, 2): 1.0, (1, 100): 2.0}, 2, 2)


class StepsTest(unittest.TestCase):
    def test_assemble_busy_and_idle(self):
        ev = step_events(10.0) + step_events(10.023, capture=True) + step_events(10.046, kv=17)
        ev.append(("prep", 10.0695, 10.0697, False))  # idle
        ev += step_events(11.0, q=512, kv=0, dec=0, pre=1, wall=0.026)
        ev += [("prep", 12.0, 12.001, True), ("sched", 12.0001, 12.0002, (1, 1, 1, 1, 0))]  # cut off
        steps = ph.assemble_steps(ev)
        self.assertEqual(len(steps), 4)
        self.assertAlmostEqual(steps[0]["wall_ms"], 23.0)
        self.assertAlmostEqual(steps[0]["cycle_ms"], 23.0)
        self.assertTrue(steps[1]["capture"])
        self.assertIsNone(steps[2]["cycle_ms"], "the engine went idle after it")
        self.assertEqual((steps[3]["q_tokens"], steps[3]["prefills"]), (512, 1))
        self.assertAlmostEqual(steps[0]["launch_ms"], 1.4)
        self.assertAlmostEqual(ph.loop_overhead_ms(steps), 0.0, places=9)

    def test_classify(self):
        base = {"n_req": 1, "decodes": 1, "prefills": 0}
        self.assertEqual(ph.classify(base), "decode")
        self.assertEqual(ph.classify({"n_req": 1, "decodes": 0, "prefills": 1}), "prefill")
        self.assertEqual(ph.classify({"n_req": 9, "decodes": 8, "prefills": 1}), "mixed")
        self.assertEqual(ph.classify({"n_req": 8, "decodes": 0, "prefills": 8}), "other")
        self.assertEqual(ph.classify({"n_req": 2, "decodes": 1, "prefills": 0}), "other", "a split chunk")

    def test_admission(self):
        steps = [{"start": 1.0002}, {"start": 2.0005}]
        self.assertEqual([round(x, 6) for x in ph.admission_ms([1.0, 2.0], steps)], [0.2, 0.5])


class CpuRowsTest(unittest.TestCase):
    def setUp(self):
        self.k = ph.load_bundle(FIXTURE)["kernel"]  # 19.2852 ms at (64, 16384)

    def steps(self, walls, phase="decode", kv=12, n_req=1, capture=False):
        return [{"phase": phase, "capture": capture, "n_req": n_req, "decodes": n_req, "prefills": 0,
                 "q_tokens": n_req, "kv_read": kv, "wall_ms": w, "launch_ms": 1.4, "wait_ms": 20.0,
                 "sched_ms": 0.04, "prep_ms": 1.1, "kwargs_ms": 0.1, "update_ms": 0.3} for w in walls]

    def test_residual_median_and_slope(self):
        steps = self.steps([21.3, 21.4, 21.5, 30.0]) + self.steps([99.0], capture=True)
        rows, clamped = ph.cpu_rows(steps, self.k, 0.0, {"decode": {"decode"}}, slope=0.01)
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual((r["batch_size"], r["num_tokens"], r["count"]), (1, 1, 4))
        self.assertAlmostEqual(r["cpu"], (21.4 + 21.5) / 2 - 19.2852 - 0.12)
        self.assertEqual(clamped, 0)

    def test_clamp_and_filters(self):
        steps = self.steps([19.0, 19.1, 19.2])  # below the kernel prediction
        steps += self.steps([25.0], n_req=3)  # a straggler shape, unplanned, 1 step
        steps += self.steps([25.0, 25.0, 25.0], phase="longctx")  # not a CPU-table phase
        rows, clamped = ph.cpu_rows(steps, self.k, 0.0, {"decode": {"decode"}}, planned={(1, 1)})
        self.assertEqual([(r["batch_size"], r["num_tokens"]) for r in rows], [(1, 1)])
        self.assertEqual(rows[0]["cpu"], 0.0)
        self.assertEqual(clamped, 3)

    def test_kv_slope(self):
        pts = [(1, 16, 1.8 + 16 * 2e-4), (1, 512, 1.8 + 512 * 2e-4), (1, 8192, 1.8 + 8192 * 2e-4)]
        self.assertAlmostEqual(ph.kv_slope(pts), 2e-4)
        with self.assertRaisesRegex(ph.ProfileError, "spanning 1000 cached tokens"):
            ph.kv_slope([(1, 16, 1.0), (1, 20, 1.1)])

    def test_kv_slope_keeps_an_intercept_per_batch_size(self):
        # Batch 8 costs 2 ms more at any context; a pooled fit would read that as slope.
        pts = [(1, 100, 1.0 + 100 * 1e-4), (1, 2000, 1.0 + 2000 * 1e-4),
               (8, 150, 3.0 + 150 * 1e-4), (8, 16000, 3.0 + 16000 * 1e-4), (12, 24000, 9.0)]
        self.assertAlmostEqual(ph.kv_slope(pts), 1e-4)


    def test_slope_groups_by_padded_shape(self):
        # Batch 32 at 16384 padded cached tokens and at 65536 (long contexts): the kernel
        # tables' error at 65536 shifts that group's residual; grouped by shape it keeps
        # its own intercept and only the within-shape slope counts.
        def step(kv, res):
            return {"n_req": 32, "q_tokens": 32, "kv_read": kv, "res": res}
        steps = [step(300, 2.0 + 300 * 1.5e-4), step(1500, 2.0 + 1500 * 1.5e-4),
                 step(64100, -30.0 + 64100 * 1.5e-4), step(64600, -30.0 + 64600 * 1.5e-4)]
        grouped = [(ph.slope_group(s, None), s["kv_read"], s["res"]) for s in steps]
        self.assertEqual({g for g, _, _ in grouped}, {(32, 64, 16384), (32, 64, 65536)})
        self.assertAlmostEqual(ph.kv_slope(grouped), 1.5e-4)
        by_batch = [(32, s["kv_read"], s["res"]) for s in steps]
        self.assertLess(ph.kv_slope(by_batch), 0, "pooled over shapes the kernel error reads as slope")


class WritersTest(unittest.TestCase):
    def test_bundle_round_trip(self):
        tokens = [1, 64, 128]
        samples = {op: [[0.01, 0.012, 0.011]] * len(tokens) for op in ph.MLP_OPS}
        attn_q, attn_kv = [64, 128], [16384, 32768]
        attn = [[[0.5, 0.6, 0.55], [1.0]], [[0.52], [1.02]]]
        with tempfile.TemporaryDirectory() as d:
            h, rows = bw.mlp_rows(tokens, samples)
            bw.write_csv(os.path.join(d, "mlp.csv"), h, rows)
            h, rows = bw.attention_rows(attn_q, attn_kv, attn)
            bw.write_csv(os.path.join(d, "attention.csv"), h, rows)
            cpu = [{"batch_size": b, "num_tokens": n, "count": 3, "cpu": v, "wall": 23.0, "kernel": 21.0, "kv": 0,
                    "launch": 1.4, "wait": 20.0, "sched": 0.04, "prep": 1.2, "update": 0.3, "other": 0.0}
                   for b, n, v in [(1, 1, 1.8), (8, 8, 2.4), (1, 129, 2.0)]]
            bw.write_csv(os.path.join(d, "cpu_overheads.csv"), bw.CPU_HEADER, bw.cpu_csv_rows(cpu, 2e-4))
            with open(os.path.join(d, "mlp.csv")) as f:
                mlp = list(csv.DictReader(f))
            self.assertEqual(mlp[1]["time_stats.lm_head.median"], "0.011")
            self.assertEqual(mlp[1]["num_tokens"], "64")
            with open(os.path.join(d, "attention.csv")) as f:
                att = list(csv.DictReader(f))
            pre = [r for r in att if r["is_prefill"] == "True"]
            dec = [r for r in att if r["is_prefill"] == "False"]
            self.assertEqual(len(pre), 4)
            self.assertEqual({(r["batch_size"], r["prefill_chunk_size"]) for r in dec},
                             {("1", "0"), ("64", "0"), ("128", "0")})
            self.assertEqual(next(r for r in dec if r["batch_size"] == "1")["time_stats.attn_decode.median"], "0.55")
            b = ph.load_bundle(d)
            self.assertAlmostEqual(b["kernel"].attn_ms[1][1], 1.02)
            self.assertEqual(b["cpu"][(8, 8)], 2.4)
            self.assertEqual(b["slope"], 2e-4)

    def test_provenance_has_only_loader_fields(self):
        text = bw.provenance_yaml({"gpu": "NVIDIA H200", "model": ph.MODEL, "method": 'a "quoted" text', "tp": 1,
                                   "cuda_graphs": True}, ["first", "second"])
        lines = text.splitlines()
        self.assertEqual(lines[:2], ["# first", "# second"])
        self.assertIn('method: "a \\"quoted\\" text"', lines)
        self.assertIn("  head_dim: 128", lines)
        self.assertIn('  dtype: "bf16"', lines)
        self.assertIn("cuda_graphs: true", lines)

    def test_non_finite_refused(self):
        with self.assertRaises(ph.ProfileError):
            bw._fmt(float("nan"))


class CaptureRowsTest(unittest.TestCase):
    def test_capture_cost_is_wall_over_the_warm_prediction_by_kind(self):
        bundle = ph.load_bundle(FIXTURE)
        eng = {"budget": 8192, "max_reqs": 1024, "num_pages": ph.H200_NUM_PAGES}

        def step(start, n_req, dec, q, kv, extra, capture=True):
            warm = ph.predict_step_ms(bundle, n_req, q, kv, **eng)
            return {"start": start, "n_req": n_req, "decodes": dec, "prefills": n_req - dec, "q_tokens": q,
                    "kv_read": kv, "wall_ms": warm + extra, "capture": capture}

        steps = [step(1, 1, 1, 1, 16, 110.0), step(2, 1, 1, 1, 40, 130.0),
                 step(3, 1, 1, 1, 50, 999.0, capture=False), step(4, 5, 4, 260, 80, 150.0),
                 step(5, 1, 0, 500, 0, 180.0)]
        # Process 1: Q 64 first; Q 64 again (same variant, not a row); Q 2048 (the other
        # variant: a variant row); Q 128 (compiled already: not a row).
        fresh = [[step(0, 1, 0, 16, 0, 900.0), step(1, 2, 2, 2, 16, 20.0, capture=False),
                  step(2, 2, 2, 2, 300, 120.0), step(3, 1, 0, 2000, 0, 700.0), step(4, 1, 0, 100, 0, 90.0)],
                 [step(0, 1, 0, 16, 0, 400.0), step(1, 1, 1, 1, 16, 110.0)]]  # one variant only
        rows = cap.capture_rows(steps, bundle, eng, fresh)
        got = [(r["kind"], r["q_pad"], round(r["capture_ms"], 6)) for r in rows]
        self.assertEqual(got, [("first", 64, 400.0), ("first", 64, 900.0), ("variant", 2048, 700.0),
                               ("fresh_decode", 64, 110.0), ("fresh_decode", 64, 120.0), ("fresh_prefill", 128, 90.0),
                               ("decode", 64, 110.0), ("decode", 64, 130.0), ("prefill", 512, 180.0),
                               ("mixed", 320, 150.0)])
        restart = [[step(0, 1, 0, 16, 0, 450.0), step(1, 1, 0, 2000, 0, 150.0)]]  # no variant row
        rows = cap.capture_rows(steps, bundle, eng, fresh, restart)
        self.assertEqual([(r["kind"], round(r["capture_ms"], 6)) for r in rows
                          if r["kind"] in ("restart", "variant", "fresh_prefill")],
                         [("variant", 700.0), ("restart", 450.0), ("fresh_prefill", 90.0), ("fresh_prefill", 150.0)])
        self.assertEqual([cap.kernel_variant(q) for q in (64, 128, 320, 2432, 6720, 8192)],
                         ["q%128=64", "q%128=0", "q%128=64", "q%128=0", "q%128=64", "q%128=0"])


class PlanTest(unittest.TestCase):
    def test_plans_cover_the_engine_shapes(self):
        for quick in (False, True):
            p = ph.make_plan(quick)
            self.assertEqual((p["attn_q"][0], p["attn_q"][-1]), (64, 8192))
            self.assertIn(16384, p["attn_kv"], "the smallest padded read of a full-size cache")
            if not quick:
                self.assertLessEqual(p["attn_kv"][0], 1024, "small caches pad KV to their num_pages")
            self.assertLessEqual(p["tokens"][0], 64)
            self.assertGreaterEqual(p["tokens"][-1], 8192)
            self.assertIn(1, p["decode_b"], "the CPU scheme needs the batch-1 decode row")
            self.assertTrue(all(q % 64 == 0 for q in p["attn_q"]))
            self.assertIn("KVpad", ph.grid_text(p))
        self.assertLess(len(ph.make_plan(True)["tokens"]), len(ph.make_plan(False)["tokens"]))


class MainTest(unittest.TestCase):
    @unittest.skipIf(importlib.util.find_spec("torch") is not None, "torch is installed: main would profile")
    def test_error_exit_names_the_stage(self):
        err = io.StringIO()
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(err):
            rc = profile_hfcb.main(["--out", os.path.join(d, "b"), "--target", "t", "--quick"])
        self.assertEqual(rc, 1)
        self.assertIn("profile_hfcb: error: checking the environment:", err.getvalue())


if __name__ == "__main__":
    unittest.main()


class RankOfTPTest(unittest.TestCase):
    def test_one_rank_holds_a_share_of_heads_intermediate_and_lm_head_rows(self):
        model = dict(ph.MODEL)
        full = profile_hfcb.shard_model_for_rank(model, 2)
        self.assertEqual(full, ph.MODEL, "the full spec is returned for the provenance")
        self.assertEqual((model["q_heads"], model["kv_heads"], model["intermediate"], model["vocab"]),
                         (ph.MODEL["q_heads"] // 2, ph.MODEL["kv_heads"] // 2, ph.MODEL["intermediate"] // 2,
                          ph.MODEL["vocab"] // 2))
        self.assertEqual((model["hidden"], model["layers"], model["head_dim"]),
                         (ph.MODEL["hidden"], ph.MODEL["layers"], ph.MODEL["head_dim"]), "not sharded")

    def test_tp_1_changes_nothing_and_indivisible_shapes_are_refused(self):
        model = dict(ph.MODEL)
        self.assertEqual(profile_hfcb.shard_model_for_rank(model, 1), ph.MODEL)
        self.assertEqual(model, ph.MODEL)
        with self.assertRaisesRegex(ph.ProfileError, "kv_heads .* not divisible by 3"):
            profile_hfcb.shard_model_for_rank(dict(ph.MODEL, q_heads=12, kv_heads=8), 3)
