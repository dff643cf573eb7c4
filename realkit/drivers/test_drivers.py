"""Tests of the engine drivers' import-free parts (no torch, transformers or sarathi).

Run: python3 -m unittest discover -s realkit/drivers -p 'test_*.py'
"""

import enum
import types
import unittest

import hfcb_api as api
import hfcb_driver
import replay
import sarathi_driver


class Status(enum.IntEnum):
    PENDING = 0
    PREFILLING = 1
    DECODING = 2
    FINISHED = 3
    FAILED = 4


class AddRequestAPI:
    def add_request(self, input_ids, request_id=None, max_new_tokens=None, streaming=False,
                    record_timestamps=False, **logit_processor_kwargs):
        pass


class OldAddRequestAPI:
    def add_request(self, input_ids, request_id=None, max_new_tokens=None, **logit_processor_kwargs):
        pass


class AcceptedKwargsTest(unittest.TestCase):
    def test_named_parameters_pass_and_none_is_dropped(self):
        got = api.accepted_kwargs(AddRequestAPI().add_request, {"request_id": "a", "max_new_tokens": None},
                                  "add_request")
        self.assertEqual(got, {"request_id": "a"})

    def test_a_catch_all_kwargs_does_not_count(self):
        # record_timestamps would vanish into **logit_processor_kwargs: must fail loudly instead.
        with self.assertRaises(replay.EngineError) as ctx:
            api.accepted_kwargs(OldAddRequestAPI().add_request, {"record_timestamps": True}, "manager.add_request",
                                required=("record_timestamps",))
        msg = str(ctx.exception)
        self.assertIn("manager.add_request: installed API", msg)
        self.assertIn("lacks parameters ['record_timestamps']", msg)
        self.assertIn("(input_ids, request_id=None, max_new_tokens=None, **logit_processor_kwargs)", msg)


class PromptIdsTest(unittest.TestCase):
    def test_deterministic_per_seed_and_id_and_below_special_ids(self):
        a = api.prompt_ids(0, "17", 200, api.FIRST_SPECIAL_ID)
        self.assertEqual(a, api.prompt_ids(0, "17", 200, api.FIRST_SPECIAL_ID))
        self.assertNotEqual(a, api.prompt_ids(1, "17", 200, api.FIRST_SPECIAL_ID))
        self.assertNotEqual(a, api.prompt_ids(0, "18", 200, api.FIRST_SPECIAL_ID))
        self.assertEqual(len(a), 200)
        self.assertTrue(all(1000 <= t < api.FIRST_SPECIAL_ID for t in a))


class FinishedFromOutputTest(unittest.TestCase):
    def output(self, **kw):
        base = dict(request_id="1/a", status=Status.FINISHED, error=None, timestamps=[5.0, 5.1, 5.2],
                    generated_tokens=[1, 2, 3], lifespan=(4.9, 5.2))
        base.update(kw)
        return types.SimpleNamespace(**base)

    def test_keeps_engine_times_and_first_scheduled(self):
        fin = api.finished_from_output(self.output(), "a")
        self.assertEqual((fin.id, fin.token_times, fin.first_scheduled, fin.error), ("a", [5.0, 5.1, 5.2], 4.9, None))

    def test_failed_or_unstamped_outputs_are_errors(self):
        cases = [
            (self.output(status=Status.FAILED, error="CUDA OOM"), "status FAILED: CUDA OOM"),
            (self.output(timestamps=None), "record_timestamps not honoured"),
        ]
        for out, want in cases:
            self.assertIn(want, api.finished_from_output(out, "a").error)

    def test_missing_lifespan_means_unknown_scheduling(self):
        self.assertIsNone(api.finished_from_output(self.output(lifespan=(-1, -1)), "a").first_scheduled)


class ResolvedSettingsTest(unittest.TestCase):
    def test_reads_the_started_manager(self):
        FIFOScheduler = type("FIFOScheduler", (), {"max_requests_per_batch": 1024})
        bp = types.SimpleNamespace(
            max_batch_tokens=8192, scheduler=FIFOScheduler(),
            cache=types.SimpleNamespace(block_size=256, num_blocks=3823, max_batch_tokens=8192),
            model_runner=types.SimpleNamespace(use_cuda_graph_varlen=True, use_cuda_graph_decode=True))
        mgr = types.SimpleNamespace(batch_processor=bp, continuous_batching_config=types.SimpleNamespace(
            scheduler_type="fifo", max_requests_per_batch=None, block_size=256))
        model = types.SimpleNamespace(config=types.SimpleNamespace(_attn_implementation="paged|sdpa"),
                                      dtype="torch.bfloat16")
        got, unknown = replay.make_settings(api.resolved_settings(mgr, None, model, api.QWEN3_0_6B_NAME))
        self.assertEqual(unknown, [])
        self.assertEqual(got, {"scheduler": "hfcb:fifo", "token_budget": 8192, "max_seqs": 1024, "block_size": 256,
                               "num_blocks": 3823, "tp": 1, "pp": 1, "attention_backend": "paged|sdpa",
                               "dtype": "bfloat16", "cuda_graphs": True, "model": "Qwen/Qwen3-0.6B"})

    def test_what_cannot_be_read_is_unknown(self):
        mgr = types.SimpleNamespace(batch_processor=None, continuous_batching_config=None)
        _, unknown = replay.make_settings(api.resolved_settings(mgr, None, None, "m"))
        self.assertEqual(unknown, ["token_budget", "max_seqs", "block_size", "num_blocks", "attention_backend",
                                   "dtype", "cuda_graphs"])


class StepItemsTest(unittest.TestCase):
    def test_items_shape_and_capture(self):
        def future(rid, q, offset, generated):
            st = types.SimpleNamespace(request_id=rid, position_offset=offset, generated_tokens=[7] * generated)
            return types.SimpleNamespace(state=st, query_length=q)

        # Read after prepare_next_batch: position_offset already includes the query.
        got = api.step_items([future("1/a", 300, 300, 0), future("2/b", 16, 116, 0), future("3/c", 1, 41, 5)],
                             {"1/a": "a", "2/b": "b", "3/c": "c"})
        self.assertEqual(got, [{"id": "a", "prefill": 300}, {"id": "b", "prefill": 16, "past": 100},
                               {"id": "c", "decode": 1, "past": 40}])
        io = types.SimpleNamespace(_get_graph_key=lambda: (384, 16384, 1024),
                                   graphs=types.SimpleNamespace(_storage={1: 0, 2: 0}))
        key, size = api.graph_state(io)
        self.assertEqual((key, size), ((384, 16384, 1024), 2))
        self.assertEqual(api.shape_fields(key, 317, 140, 1, size),
                         {"q_tokens": 317, "kv_read": 140, "q_pad": 384, "kv_pad": 16384, "seqk_pad": 1024,
                          "graphs": 2, "captured": True})
        self.assertEqual(api.graph_state(types.SimpleNamespace()), (None, None))


class JsonableTest(unittest.TestCase):
    def test_renders_config_values(self):
        cfg = types.SimpleNamespace(block_size=256, use_cuda_graph=(True, False), status=Status.DECODING,
                                    eps=float("inf"), _private=1, nested={"b": 2, "a": 1})
        self.assertEqual(api.jsonable(cfg), {"block_size": 256, "eps": "inf", "nested": {"a": 1, "b": 2},
                                             "status": "DECODING", "use_cuda_graph": [True, False]})


class HFCBParserTest(unittest.TestCase):
    def test_defaults_match_the_h200_target(self):
        p = hfcb_driver.parser()
        replay.add_common_args(p)
        args = p.parse_args(["--trace", "t.jsonl"])
        self.assertEqual((args.attn, args.block_size, args.scheduler, args.dtype, args.no_cuda_graph),
                         ("paged|sdpa", 256, "fifo", "bfloat16", False))
        self.assertEqual(hfcb_driver.HFCBAdapter(args).model_name, "Qwen/Qwen3-0.6B")


class HFCBPrepareTest(unittest.TestCase):
    """Prompt ids built before t0 (prepare) are the ones submit would have built."""

    class FakeManager:
        def __init__(self):
            self.added = []

        def add_request(self, ids, request_id, max_new_tokens, record_timestamps):
            self.added.append((request_id, ids))

    def adapter(self):
        p = hfcb_driver.parser()
        replay.add_common_args(p)
        ad = hfcb_driver.HFCBAdapter(p.parse_args(["--trace", "t.jsonl"]))
        ad.mgr, ad.started = self.FakeManager(), True
        return ad

    def test_prepared_prompts_equal_the_lazily_built_ones(self):
        reqs = [replay.TraceRequest("a", 0.0, 40, 2), replay.TraceRequest("b", 0.1, 7, 2)]
        lazy, early = self.adapter(), self.adapter()
        early.prepare(reqs)
        self.assertEqual(len(early.prepared), 2)
        for ad in (lazy, early):
            for r in reqs:
                ad.submit(r, r.arrival_s)
        self.assertEqual(early.mgr.added, lazy.mgr.added)
        self.assertEqual([len(ids) for _, ids in early.mgr.added], [40, 7])
        self.assertEqual(early.prepared, {}, "every prepared prompt was used")

    def test_a_second_pass_gets_fresh_prompts(self):
        reqs = [replay.TraceRequest("a", 0.0, 40, 2)]
        ad = self.adapter()
        for _ in range(2):
            ad.prepare(reqs)
            ad.submit(reqs[0], 0.0)
        (id1, p1), (id2, p2) = ad.mgr.added
        self.assertNotEqual(id1, id2)
        self.assertNotEqual(p1, p2, "prefix sharing must not see a repeated prompt")


class SarathiTest(unittest.TestCase):
    def test_token_tracker_stamps_growth_and_counts_restarts(self):
        tr = sarathi_driver.TokenTracker()
        tr.observe(0, 1.0)  # a prefill chunk with no token yet
        tr.observe(1, 2.0)
        tr.observe(1, 2.5)  # scheduled, no new token
        tr.observe(2, 3.0)
        self.assertEqual(tr.times, [2.0, 3.0])
        tr.observe(0, 4.0)  # recompute preemption folded the outputs into the prompt
        tr.observe(1, 5.0)
        self.assertEqual((tr.times, tr.restarts), ([5.0], 1))

    def test_scheduler_settings_pick_the_budget(self):
        self.assertEqual(sarathi_driver.scheduler_settings("sarathi", 512, 128, None),
                         {"class": "SarathiSchedulerConfig", "kwargs": {"max_num_seqs": 128, "chunk_size": 512},
                          "token_budget": 512})
        self.assertEqual(sarathi_driver.scheduler_settings("vllm", 512, 64, 4096)["token_budget"], 4096)
        self.assertIsNone(sarathi_driver.scheduler_settings("orca", 512, 64, None)["token_budget"])
        with self.assertRaises(replay.EngineError):
            sarathi_driver.scheduler_settings("lightllm", 512, 64, None)

    def test_parser_requires_a_model(self):
        p = sarathi_driver.parser()
        replay.add_common_args(p)
        args = p.parse_args(["--trace", "t", "--model", "/m"])
        self.assertEqual((args.scheduler, args.chunk_size, args.block_size, args.load_format),
                         ("sarathi", 512, 16, "dummy"))
        self.assertEqual(sarathi_driver.SarathiAdapter(args).sched["token_budget"], 512)


if __name__ == "__main__":
    unittest.main()
