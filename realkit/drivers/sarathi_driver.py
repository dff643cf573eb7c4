"""Sarathi-Serve, in process, behind simval's replay protocol.

Written to Sarathi-Serve's real API (main @ 96f9911, 0.1.8; see
shared/reference/sarathi-driver.md §1 and §8) for A100 runners that have it with
ray, pyzmq and flashinfer installed; it cannot run on the H200 image. Requests are
added just in time with their *nominal* arrival time, so TTFT includes waiting behind
a running step; per-token times are the engine's ``time.monotonic()`` stamps
(``seq.state._last_token_generated_at``) read after every ``step()``.

Usage: sarathi_driver.py --trace T --model DIR [--tokenizer DIR]
       [--load-format auto|dummy] [--dtype float16] [--max-model-len N]
       [--scheduler sarathi|vllm|orca|simple_chunking|faster_transformer]
       [--chunk-size 512] [--max-num-seqs 128] [--max-batched-tokens N]
       [--block-size 16] [--tp 1] [--gpu-id 0] [--gpu-memory-utilization 0.8]
       [--metrics-dir DIR] [--filler-token-id 1] plus the common replay flags.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import replay

SCHEDULER_CONFIGS = {
    "sarathi": "SarathiSchedulerConfig",
    "vllm": "VllmSchedulerConfig",
    "orca": "OrcaSchedulerConfig",
    "faster_transformer": "FasterTransformerSchedulerConfig",
    "simple_chunking": "SimpleChunkingSchedulerConfig",
}


class TokenTracker:
    """Per-sequence token times from a live ``token_ids`` list (import-free, tested).

    Sarathi reports one output per scheduled sequence per step; a token was appended
    when ``len(token_ids)`` grew. A shrink is a restart (recompute preemption folds
    the outputs back into the prompt), after which times start over.
    """

    def __init__(self):
        self.times = []
        self.last_len = 0
        self.restarts = 0

    def observe(self, n_tokens: int, stamp: float) -> None:
        if n_tokens < self.last_len:
            self.restarts += 1
            self.times = []
            self.last_len = 0
        grown = n_tokens - self.last_len
        if grown > 0:
            # One step appends one token per sequence; if several appeared the engine
            # stamped only the newest, so all share its time (visible as zero gaps).
            self.times.extend([stamp] * grown)
            self.last_len = n_tokens


def scheduler_settings(scheduler: str, chunk_size: int, max_num_seqs: int, max_batched_tokens) -> dict:
    """The SchedulerConfig kwargs and the token budget simval compares, per scheduler."""
    if scheduler not in SCHEDULER_CONFIGS:
        raise replay.EngineError(f"--scheduler {scheduler!r}: want one of {sorted(SCHEDULER_CONFIGS)}")
    kwargs = {"max_num_seqs": max_num_seqs}
    budget = None
    if scheduler in ("sarathi", "simple_chunking"):
        kwargs["chunk_size"] = chunk_size
        budget = chunk_size
    elif scheduler == "vllm" and max_batched_tokens:
        kwargs["max_batched_tokens"] = max_batched_tokens
        budget = max_batched_tokens
    return {"class": SCHEDULER_CONFIGS[scheduler], "kwargs": kwargs, "token_budget": budget}


class SarathiAdapter(replay.EngineAdapter):
    name = "sarathi"
    clock_name = "monotonic"

    def __init__(self, args):
        self.args = args
        self.engine = None
        self.sched = scheduler_settings(args.scheduler, args.chunk_size, args.max_num_seqs, args.max_batched_tokens)
        self.next_seq = 0
        self.live = {}  # seq_id -> (trace id, seq, TokenTracker)
        self.steps_on = False
        self.steps = []

    def clock(self) -> float:
        return time.monotonic()

    def load(self):
        import sarathi
        from sarathi import LLMEngine, SamplingParams
        from sarathi import config as sc
        from sarathi.types import AttentionBackend

        a = self.args
        self.sarathi, self.SamplingParams = sarathi, SamplingParams
        sched_cls = getattr(sc, self.sched["class"])
        cfg = sc.SystemConfig(
            replica_config=sc.ReplicaConfig(replica_id=0, output_dir=a.metrics_dir,
                                            resource_mapping=[(None, a.gpu_id)]),
            model_config=sc.ModelConfig(model=a.model, load_format=a.load_format, dtype=a.dtype,
                                        max_model_len=a.max_model_len, seed=a.seed),
            worker_config=sc.WorkerConfig(gpu_memory_utilization=a.gpu_memory_utilization,
                                          attention_backend=AttentionBackend.FLASHINFER),
            cache_config=sc.CacheConfig(block_size=a.block_size),
            parallel_config=sc.ParallelConfig(pipeline_parallel_size=1, tensor_parallel_size=a.tp),
            scheduler_config=sched_cls(**self.sched["kwargs"]),
            metrics_config=sc.MetricsConfig(write_metrics=True, enable_chrome_trace=True,
                                            keep_individual_batch_metrics=True),
        )
        self.config = cfg
        self.engine = LLMEngine.from_system_config(cfg)

    def enable_steps(self):
        sched = self.engine.scheduler
        original = sched.schedule
        adapter = self

        def schedule(*a, **kw):
            out = original(*a, **kw)
            metas = getattr(out, "scheduled_seq_metadata_list", []) or []
            if metas:
                items = []
                for m in metas:
                    tid = adapter.live[m.seq_id][0] if m.seq_id in adapter.live else str(m.seq_id)
                    chunk = getattr(m, "prompt_chunk_len", 0) or 0
                    items.append({"id": tid, "prefill": chunk} if chunk
                                 else {"id": tid, "decode": 1})
                q = sum(it.get("prefill", 0) + it.get("decode", 0) for it in items)
                adapter.steps.append({"start": None, "duration_s": None, "items": items, "q_tokens": q})
            return out

        sched.schedule = schedule
        self.steps_on = True

    def after_warmup(self):
        self.engine.reset_metrics()

    def submit(self, req, due):
        sp = self.SamplingParams(temperature=0, top_p=1.0, ignore_eos=True, max_tokens=req.output_tokens)
        self.next_seq += 1
        seq_id = str(self.next_seq)  # numeric: Sarathi calls int(seq_id) in places
        ids = [self.args.filler_token_id] * req.prompt_tokens
        self.engine.add_request(None, sp, prompt_token_ids=ids, arrival_time=due, seq_id=seq_id)
        self.live[seq_id] = (req.id, self.engine.seq_manager.seq_map[seq_id], TokenTracker())

    def poll(self, timeout_s):
        if not self.engine.has_unfinished_requests():
            time.sleep(timeout_s)  # an empty step() returns at once: do not spin
            return []
        n_steps, start = len(self.steps), time.monotonic()
        outputs = self.engine.step()
        if len(self.steps) > n_steps:  # the wrapped schedule() recorded this step
            self.steps[-1].update(start=start, duration_s=time.monotonic() - start)
        done = []
        for out in outputs:
            entry = self.live.get(out.seq_id)
            if entry is None:
                continue
            trace_id, seq, tracker = entry
            tracker.observe(len(out.token_ids), seq.state._last_token_generated_at)
            if out.finished:
                del self.live[out.seq_id]
                state = seq.state
                done.append(replay.Finished(trace_id, tracker.times, first_scheduled=state.scheduled_at,
                                            finish_reason=out.finish_reason or "length",
                                            restarts=max(tracker.restarts, getattr(state, "num_restarts", 0))))
        return done

    def drain_steps(self):
        steps, self.steps = self.steps, []
        return steps

    def resolved_settings(self):
        c = self.config
        blocks = getattr(c.cache_config, "num_gpu_blocks", None)
        return {"scheduler": self.args.scheduler, "token_budget": self.sched["token_budget"],
                "max_seqs": self.args.max_num_seqs, "block_size": self.args.block_size, "num_blocks": blocks,
                "tp": self.args.tp, "pp": 1, "attention_backend": "flashinfer", "dtype": self.args.dtype,
                "cuda_graphs": False, "model": self.args.model}

    def describe(self):
        import importlib.metadata as md

        versions = {}
        for pkg in ("sarathi-serve", "torch", "transformers", "flashinfer-python", "ray"):
            try:
                versions[pkg] = md.version(pkg)
            except md.PackageNotFoundError:
                versions[pkg] = "absent"
        return {"engine_version": getattr(self.sarathi, "__version__", versions["sarathi-serve"]),
                "versions": versions, "gpu": replay.gpu_info(),
                "engine_config": {"scheduler": self.sched, "load_format": self.args.load_format,
                                  "gpu_memory_utilization": self.args.gpu_memory_utilization,
                                  "metrics_dir": self.args.metrics_dir},
                "model": {"name": self.args.model, "max_model_len": self.args.max_model_len}}

    def stop(self):
        if self.engine is None:
            return
        try:
            self.engine.pull_worker_metrics()
        except Exception as e:  # noqa: BLE001 - metrics are a by-product; the run's lines are out already
            print(f"pull_worker_metrics: {e}", file=sys.stderr)
        ray = sys.modules.get("ray")
        if ray is not None:
            ray.shutdown()  # the Go side kills the process group anyway: Ray leaves processes


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--tokenizer", default=None)
    p.add_argument("--load-format", default="dummy", choices=("auto", "pt", "safetensors", "npcache", "dummy"))
    p.add_argument("--dtype", default="float16")
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--scheduler", default="sarathi", choices=sorted(SCHEDULER_CONFIGS))
    p.add_argument("--chunk-size", type=int, default=512)
    p.add_argument("--max-num-seqs", type=int, default=128)
    p.add_argument("--max-batched-tokens", type=int, default=None)
    p.add_argument("--block-size", type=int, default=16)
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--gpu-id", type=int, default=0)
    p.add_argument("--gpu-memory-utilization", type=float, default=0.8)
    p.add_argument("--metrics-dir", default=os.path.join(os.getcwd(), "sarathi-metrics"))
    p.add_argument("--filler-token-id", type=int, default=1)
    return p


if __name__ == "__main__":
    replay.main(SarathiAdapter, parser())
