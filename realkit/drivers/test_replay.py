"""Tests of the shared replay loop against the fake engine on a fake clock.

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import argparse
import contextlib
import io
import json
import os
import tempfile
import unittest

import fake_engine
import replay
import warmup

REQUEST_KEYS = {"type", "rep", "id", "arrival_s", "submitted_s", "prompt_tokens", "output_tokens", "first_token_s",
                "token_times_s", "completion_s", "finish_reason", "restarts", "first_scheduled_s"}
META_KEYS = {"type", "protocol", "engine", "engine_version", "driver", "versions", "gpu", "settings",
             "settings_unknown", "engine_config", "clock", "timestamps", "warmup_policy", "model", "host", "host_cpu", "seed",
             "repetitions", "settle_s"}


def write_trace(rows):
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "w") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def req(rid, arrival, prompt=8, output=4):
    return {"id": rid, "arrival_s": arrival, "prompt_tokens": prompt, "output_tokens": output}


def parse_args(trace, *extra):
    p = argparse.ArgumentParser()
    replay.add_common_args(p)
    return p.parse_args(["--trace", trace, *extra])


def run(rows, engine, *extra):
    """Runs the whole driver protocol on a trace; returns (exit code, parsed lines)."""
    path = write_trace(rows)
    try:
        out = io.StringIO()
        # The driver prints a traceback for every failure it reports; the tests that
        # provoke failures check the error lines, so the expected tracebacks stay quiet.
        with contextlib.redirect_stderr(io.StringIO()):
            code = replay.run_driver(engine, parse_args(path, *extra), replay.Emitter(out))
    finally:
        os.unlink(path)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def fake(**kw):
    clock = fake_engine.FakeClock()
    return fake_engine.FakeEngine(clock=clock, sleep=clock.sleep, **kw)


def of_type(lines, kind):
    return [x for x in lines if x["type"] == kind]


class ReadTraceTest(unittest.TestCase):
    def test_sorts_by_arrival_and_keeps_fields(self):
        path = write_trace([req("b", 1.5), req("a", 0.25, 7, 64)])
        self.addCleanup(os.unlink, path)
        got = replay.read_trace(path)
        self.assertEqual([r.id for r in got], ["a", "b"])
        self.assertEqual(got[0], replay.TraceRequest("a", 0.25, 7, 64))

    def test_errors_name_file_line_and_field(self):
        cases = [
            ([req("a", 0), '{"id": "b", "arrival_s": 1, "prompt_tokens": 3}'], ":2: unknown fields [], missing"),
            ([req("a", 0), req("a", 1)], ":2: id 'a' repeats"),
            ([req("a", -1)], ":1: arrival_s"),
            ([req("a", 0, output=0)], ":1: output_tokens"),
            ([req("a", 0, prompt=True)], ":1: prompt_tokens"),
            (["not json"], ":1: not JSON"),
            ([], "no requests"),
        ]
        for rows, want in cases:
            path = write_trace(rows)
            self.addCleanup(os.unlink, path)
            with self.assertRaises(replay.TraceError) as ctx:
                replay.read_trace(path)
            self.assertIn(want, str(ctx.exception))
            self.assertIn(path, str(ctx.exception))


class PacingTest(unittest.TestCase):
    def test_submits_each_request_when_due_not_before(self):
        engine = fake(step_s=0.01, prefill_s=0.02)
        code, lines = run([req("a", 0.0), req("b", 0.5), req("c", 1.25)], engine, "--warmup", "none")
        self.assertEqual(code, 0)
        t0 = of_type(lines, "summary")[0]["t0_clock"]
        submitted = {rid: round(at - t0, 9) for rid, at in engine.submissions}
        self.assertEqual(submitted, {"a": 0.0, "b": 0.5, "c": 1.25})
        for line in of_type(lines, "request"):
            self.assertAlmostEqual(line["submitted_s"], line["arrival_s"], places=9)

    def test_lateness_is_submitted_minus_arrival(self):
        # Three requests due at once; each submission costs 10 ms, so the later ones are late.
        engine = fake(submit_cost_s=0.01)
        code, lines = run([req("a", 0.1), req("b", 0.1), req("c", 0.1)], engine, "--warmup", "none")
        self.assertEqual(code, 0)
        late = {x["id"]: round(x["submitted_s"] - x["arrival_s"], 9) for x in of_type(lines, "request")}
        self.assertEqual(late, {"a": 0.0, "b": 0.01, "c": 0.02})

    def test_prepare_runs_before_t0_and_costs_no_request_latency(self):
        # Preparing (e.g. building prompt ids) takes 1 s on the fake clock; it happens
        # before each repetition's t0, so the request is still submitted when due.
        engine = fake()
        calls = []

        def prepare(requests):
            calls.append((engine.clock(), [r.id for r in requests]))
            engine.pause(1.0)

        engine.prepare = prepare
        code, lines = run([req("a", 0.0), req("b", 0.5)], engine, "--warmup", "none", "--repetitions", "2")
        self.assertEqual(code, 0)
        self.assertEqual([ids for _, ids in calls], [["a", "b"], ["a", "b"]])
        t0s = [x["t0_clock"] for x in of_type(lines, "summary")]
        self.assertTrue(all(at + 1.0 <= t0 for (at, _), t0 in zip(calls, t0s)), (calls, t0s))
        for line in of_type(lines, "request"):
            self.assertAlmostEqual(line["submitted_s"], line["arrival_s"], places=9)

    def test_token_times_are_converted_to_seconds_since_t0(self):
        engine = fake(step_s=0.01, prefill_s=0.02)
        code, lines = run([req("a", 0.5, output=3)], engine, "--warmup", "none")
        self.assertEqual(code, 0)
        (line,) = of_type(lines, "request")
        want = [0.52, 0.53, 0.54]
        for got, w in zip(line["token_times_s"], want):
            self.assertAlmostEqual(got, w, places=9)
        self.assertEqual(line["first_token_s"], line["token_times_s"][0])
        self.assertEqual(line["completion_s"], line["token_times_s"][-1])
        self.assertAlmostEqual(line["first_scheduled_s"], 0.5, places=9)

    def test_time_limit_stops_the_replay(self):
        code, lines = run([req("a", 0.0), req("b", 50.0)], fake(), "--warmup", "none", "--time-limit", "1")
        self.assertEqual(code, 1)
        self.assertIn("time limit 1.0 s reached", of_type(lines, "error")[0]["message"])


class ProtocolTest(unittest.TestCase):
    def test_line_order_and_shapes(self):
        code, lines = run([req("a", 0.0), req("b", 0.1)], fake(), "--warmup", "none", "--steps")
        self.assertEqual(code, 0)
        self.assertEqual([x["type"] for x in lines], ["ready", "meta", "request", "request", "step", "step",
                                                      "summary"])
        self.assertEqual(set(lines[0]), {"type", "protocol", "load_s", "warmup_s"})
        meta = lines[1]
        self.assertEqual(set(meta), META_KEYS)
        self.assertEqual(list(meta["settings"]), list(replay.SETTINGS_DEFAULTS))
        self.assertEqual(meta["settings_unknown"], ["num_blocks"])
        self.assertEqual((meta["clock"], meta["timestamps"], meta["engine"]), ("perf_counter", "engine", "fake"))
        for line in of_type(lines, "request"):
            self.assertEqual(set(line), REQUEST_KEYS)
            self.assertEqual(line["finish_reason"], "length")
        step = of_type(lines, "step")[0]
        self.assertEqual(set(step), {"type", "rep", "index", "start_s", "duration_s", "items", "q_tokens",
                                     "kv_read", "captured", "graphs"})
        summary = lines[-1]
        self.assertEqual((summary["requests"], summary["finished"], summary["rep"]), (2, 2, 0))

    def test_warmup_steps_go_out_before_the_timed_ones_with_negative_times(self):
        code, lines = run([req("a", 0.0), req("b", 0.1)], fake(), "--warmup", "shapes", "--steps",
                          "--repetitions", "2")
        self.assertEqual(code, 0)
        steps = of_type(lines, "step")
        warm = [s for s in steps if s.get("warmup")]
        self.assertTrue(warm, "the warm-up's steps are reported")
        self.assertTrue(all(s["rep"] == 0 and s["start_s"] < 0 for s in warm))
        self.assertEqual([s["index"] for s in warm], list(range(len(warm))))
        timed0 = [s for s in steps if s["rep"] == 0 and not s.get("warmup")]
        self.assertEqual([s["index"] for s in timed0], [0, 1])
        self.assertFalse(any(s.get("warmup") for s in steps if s["rep"] == 1))

    def test_engine_crash_keeps_finished_requests_and_says_where(self):
        rows = [req(str(k), 0.1 * k) for k in range(4)]
        code, lines = run(rows, fake(crash_after=2), "--warmup", "none")
        self.assertEqual(code, 1)
        self.assertEqual([x["type"] for x in lines], ["ready", "meta", "request", "request", "error"])
        err = lines[-1]
        self.assertTrue(err["fatal"])
        self.assertIn("replaying repetition 0 (repetition 0: 2 of 4 requests finished)", err["message"])
        self.assertIn("fake engine crashed after 2 requests", err["message"])

    def test_wrong_token_count_is_a_nonfatal_error(self):
        code, lines = run([req("a", 0.0), req("b", 0.0)], fake(short_id="b"), "--warmup", "none")
        self.assertEqual(code, 0)
        (err,) = of_type(lines, "error")
        self.assertEqual((err["fatal"], err["request_id"]), (False, "b"))
        self.assertIn("3 token times for 4 output tokens", err["message"])
        self.assertEqual(of_type(lines, "summary")[0]["finished"], 1)

    def test_repetitions_each_replay_the_whole_trace(self):
        code, lines = run([req("a", 0.0), req("b", 0.2)], fake(), "--warmup", "none", "--repetitions", "2")
        self.assertEqual(code, 0)
        self.assertEqual([(x["rep"], x["id"]) for x in of_type(lines, "request")],
                         [(0, "a"), (0, "b"), (1, "a"), (1, "b")])
        self.assertEqual([x["rep"] for x in of_type(lines, "summary")], [0, 1])

    def test_settles_before_each_repetition_and_before_writing_its_lines(self):
        engine = fake()
        clk = engine.clock
        code, lines = run([req("a", 0.0)], engine, "--warmup", "none", "--repetitions", "2", "--settle", "0.5")
        self.assertEqual(code, 0)
        self.assertEqual(lines[1]["settle_s"], 0.5)
        t0s = [x["t0_clock"] for x in of_type(lines, "summary")]
        ends = [t0 + x["duration_s"] for t0, x in zip(t0s, of_type(lines, "summary"))]
        # The second repetition starts two settles after the first one's end: one before
        # its lines are written, one before the next t0.
        self.assertGreaterEqual(t0s[1] - ends[0], 1.0)
        self.assertLess(t0s[1] - ends[0], 1.1)
        self.assertGreaterEqual(clk(), ends[1] + 0.5)

    def test_bad_trace_is_a_fatal_error_before_ready(self):
        code, lines = run([req("a", 0.0), req("a", 0.0)], fake())
        self.assertEqual(code, 1)
        self.assertEqual([x["type"] for x in lines], ["error"])
        self.assertIn("reading the trace", lines[0]["message"])

    def test_make_settings_rejects_unknown_fields(self):
        with self.assertRaises(replay.EngineError):
            replay.make_settings({"chunk": 512})


class WarmupTest(unittest.TestCase):
    def test_waves_run_before_ready_and_cover_lengths_and_batch_sizes(self):
        engine = fake()
        rows = [req("a", 0.0, prompt=7), req("b", 0.0, prompt=9), req("c", 0.05, prompt=7)]
        code, lines = run(rows, engine, "--warmup", "shapes")
        self.assertEqual(code, 0)
        ids = [rid for rid, _ in engine.submissions]
        self.assertEqual(ids[:5], ["warmup-p0", "warmup-p1", "warmup-c0", "warmup-c1", "warmup-c2"])
        self.assertEqual(ids[5:], ["a", "b", "c"])
        self.assertIn("prompt lengths 7,9", lines[1]["warmup_policy"])
        self.assertIn("decode batches 3..1", lines[1]["warmup_policy"])

    def test_default_policy_also_replays_the_trace_before_t0(self):
        engine = fake()
        code, lines = run([req("a", 0.0), req("b", 0.3)], engine)
        self.assertEqual(code, 0)
        ids = [rid for rid, _ in engine.submissions]
        self.assertEqual(ids[-4:], ["a", "b", "a", "b"], "warm-up replay, then the timed one")
        self.assertIn("replay: the whole trace once", lines[1]["warmup_policy"])
        self.assertEqual(len(of_type(lines, "request")), 2, "warm-up results are not emitted")

    def test_concurrency_wave_staggers_outputs(self):
        rows = [replay.TraceRequest(str(k), 0.0, 10 + k, 4) for k in range(5)]
        waves = warmup.plan(rows, max_batch=4)
        self.assertEqual([r.output_tokens for r in waves[-1]], [2, 3, 4, 5])
        self.assertEqual([w[0].prompt_tokens for w in waves[:-1]], [10, 11, 12, 13, 14])

    def test_many_prompt_lengths_are_capped(self):
        rows = [replay.TraceRequest(str(k), 0.0, k + 1, 4) for k in range(1000)]
        lengths = warmup.prefill_lengths(rows)
        self.assertEqual(len(lengths), warmup.MAX_PREFILL_WAVES)
        self.assertEqual((lengths[0], lengths[-1]), (1, 1000))

    def test_concurrency_estimate_counts_overlap(self):
        rows = [replay.TraceRequest("a", 0.0, 4, 8), replay.TraceRequest("b", 0.1, 4, 8),
                replay.TraceRequest("c", 10.0, 4, 8)]
        self.assertEqual(warmup.estimate_concurrency(rows, step_s=0.05), 2)
        self.assertEqual(warmup.estimate_concurrency(rows, step_s=0.001), 1)


if __name__ == "__main__":
    unittest.main()
