"""transformers continuous batching ("hfcb") behind simval's replay protocol.

Builds Qwen3-0.6B from its configuration with random weights (or loads --model DIR),
starts ``model.init_continuous_batching`` (paged attention, FIFO scheduler, CUDA
graphs, EOS disabled) and replays the trace with ``record_timestamps=True``: token
times are the engine's own ``time.perf_counter()`` stamps, taken when each token is
appended on the host.

With --tp N it runs as N ranks under torch.distributed.run, the model sharded by
transformers' tensor-parallel plan (hfcb_dist.py says how); rank 0 replays.

Usage: hfcb_driver.py --trace T [--model DIR | --model-spec JSON] [--attn paged|sdpa]
       [--block-size 256] [--num-blocks N] [--max-batch-tokens N] [--max-requests-per-batch N]
       [--max-memory-percent F] [--no-cuda-graph] [--scheduler fifo|prefill_first]
       [--engine-warmup] [--dtype bfloat16] [--tp N [--random-checkpoint DIR]]
       plus the common replay flags.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import hfcb_api as api
import hfcb_dist
import replay


class HFCBAdapter(replay.EngineAdapter):
    name = "hfcb"
    clock_name = "perf_counter"

    def __init__(self, args):
        self.args = args
        self.torch = self.tf = self.model = self.cfg = self.cbc = self.mgr = None
        self.launch = hfcb_dist.launch_from_env(os.environ)
        hfcb_dist.check_tp(self.launch, args.tp)
        self.model_name, self.config_kwargs = api.QWEN3_0_6B_NAME, dict(api.QWEN3_0_6B)
        if args.model_spec:
            if args.model:
                raise replay.EngineError("--model and --model-spec exclude each other")
            self.model_name, self.config_kwargs = hfcb_dist.config_from_spec(args.model_spec, args.dtype)
        if args.model:
            self.model_name = args.model
        elif args.tp > 1:
            hfcb_dist.check_divisible(self.config_kwargs, args.tp)
        self.checkpoint = ""  # the random checkpoint a TP launch loaded
        self.max_new_tokens = 1
        self.started = False
        self.counter = 0
        self.trace_ids = {}  # engine request id -> trace id
        self.prepared = {}  # engine request id -> prompt ids built before the replay's t0 (prepare)
        self.vocab_hi = api.FIRST_SPECIAL_ID
        self.steps_lock = threading.Lock()
        self.polls = None  # --poll-log (hfcb_polls.py)
        self.steps, self.pending_steps = [], []
        self.steps_on = False
        self.phases = None  # hfcb_phases.StepPhases under --step-phases
        self.warm_text = ""

    def plan(self, requests):
        self.max_new_tokens = max(r.output_tokens for r in requests)

    # -- loading ----------------------------------------------------------------------

    def load(self):
        import torch
        import transformers

        self.torch, self.tf = torch, transformers
        if not torch.cuda.is_available():
            raise replay.EngineError(f"torch {torch.__version__} sees no CUDA device")
        torch.manual_seed(self.args.seed)
        self.model = self._build_tp_model() if self.launch.world_size > 1 else self._build_model()
        self.cfg = self.model.config
        self.vocab_hi = min(int(self.cfg.vocab_size), api.FIRST_SPECIAL_ID)
        self.cbc = self._build_cb_config()
        gen = self._generation_config()
        init = self.model.init_continuous_batching
        kwargs = api.accepted_kwargs(init, {"generation_config": gen, "continuous_batching_config": self.cbc},
                                     "model.init_continuous_batching", required=("generation_config",))
        self.mgr = init(**kwargs)
        for method in ("add_request", "get_result", "start", "stop"):
            if not callable(getattr(self.mgr, method, None)):
                raise replay.EngineError(f"continuous batching manager {type(self.mgr).__name__} has no {method}()")
        api.accepted_kwargs(self.mgr.add_request, {"request_id": "x", "max_new_tokens": 1, "record_timestamps": True},
                            "manager.add_request", required=("request_id", "max_new_tokens", "record_timestamps"))
        if self.launch.world_size > 1:
            self._check_tp_manager()
        if self.args.poll_log:
            import hfcb_polls
            from transformers.generation.continuous_batching import continuous_api as capi

            self.polls = hfcb_polls.PollLog(self.args.poll_log, self.launch.rank)
            try:
                self.polls.install(self.mgr, api.find_attr([capi], "ContinuousBatchProcessor"))
            except RuntimeError as e:
                raise replay.EngineError(str(e)) from e

    def _model_dtype(self):
        dtype = getattr(self.torch, self.args.dtype, None)
        if not isinstance(dtype, self.torch.dtype):
            raise replay.EngineError(f"--dtype {self.args.dtype}: not a torch dtype")
        return dtype

    def _build_model(self):
        tf, dtype, attn = self.tf, self._model_dtype(), self.args.attn
        if self.args.model:
            auto = api.find_attr([tf], "AutoModelForCausalLM")
            return auto.from_pretrained(self.args.model, attn_implementation=attn, dtype=dtype,
                                        device_map="cuda").eval()
        return self._random_model("cuda")

    def _random_model(self, device):
        """The target's configuration with random weights, built on device."""
        tf, dtype, attn = self.tf, self._model_dtype(), self.args.attn
        cfg_cls = api.find_attr([tf], "Qwen3Config")
        model_cls = api.find_attr([tf], "Qwen3ForCausalLM")
        cfg = cfg_cls(**self.config_kwargs, rope_theta=api.QWEN3_ROPE_THETA)
        self._pin_rope_theta(cfg)
        with self.torch.device(device):
            try:
                model = model_cls._from_config(cfg, attn_implementation=attn, dtype=dtype)
            except TypeError as e:
                if "dtype" not in str(e):
                    raise
                model = model_cls._from_config(cfg, attn_implementation=attn, torch_dtype=dtype)
        return model.eval()

    # -- tensor parallelism -------------------------------------------------------------

    def _build_tp_model(self):
        """This rank's shard: the process group on this rank's GPU, then
        from_pretrained(tp_plan="auto") of --model or of a random checkpoint, checked to
        be sharded."""
        torch, tf = self.torch, self.tf
        os.environ.setdefault(hfcb_dist.GRAPH_MIXING_ENV, "0")  # before init_process_group
        torch.cuda.set_device(self.launch.local_rank)
        if not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl", device_id=torch.device("cuda", self.launch.local_rank))
        path = self.args.model or self._random_checkpoint()
        auto = api.find_attr([tf], "AutoModelForCausalLM")
        model = auto.from_pretrained(path, attn_implementation=self.args.attn, dtype=self._model_dtype(),
                                     tp_plan="auto").eval()
        cfg = model.config
        kwargs = {"hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
                  "num_attention_heads": cfg.num_attention_heads, "num_key_value_heads": cfg.num_key_value_heads}
        hfcb_dist.check_divisible(kwargs, self.launch.world_size)
        weight = model.model.layers[0].mlp.down_proj.weight
        local = weight.to_local() if callable(getattr(weight, "to_local", None)) else weight
        hfcb_dist.check_sharded(tuple(local.shape), kwargs, self.launch.world_size)
        return model

    def _random_checkpoint(self) -> str:
        """Rank 0 saves the random-weight model once into a folder keyed by its marker
        (reused while the marker matches); every rank waits for it at a barrier."""
        key = hfcb_dist.checkpoint_key(self.model_name, self.config_kwargs, self.args.seed, self.args.dtype)
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", self.model_name).strip("-")
        folder = self.args.random_checkpoint or os.path.join(tempfile.gettempdir(),
                                                             f"simval-random-{slug}-seed{self.args.seed}")
        marker = os.path.join(folder, hfcb_dist.MARKER_FILE)
        if self.launch.leader and hfcb_dist.read_marker(marker) != key:
            shutil.rmtree(folder, ignore_errors=True)
            start = time.perf_counter()
            model = self._random_model(self.torch.device("cuda", self.launch.local_rank))
            model.save_pretrained(folder)
            del model
            self.torch.cuda.empty_cache()
            hfcb_dist.write_marker(marker, key)
            print(f"hfcb driver: random checkpoint written to {folder} in {time.perf_counter() - start:.1f} s",
                  file=sys.stderr)
        self.torch.distributed.barrier()
        if hfcb_dist.read_marker(marker) != key:
            raise replay.EngineError(f"random checkpoint {folder}: its marker does not match this model after "
                                     "rank 0 wrote it (is the folder shared by another run?)")
        self.checkpoint = folder
        return folder

    def _check_tp_manager(self):
        """Under TP the manager must coordinate its ranks (transformers'
        continuous_batching/distributed.py: rank 0 owns the queue and broadcasts the
        schedule). A manager without that would schedule each rank on its own, and the
        ranks' batches, hence their collectives, would diverge."""
        is_driver = getattr(self.mgr, "is_tp_driver", None)
        if not isinstance(is_driver, bool):
            raise replay.EngineError(
                f"transformers {self.tf.__version__}: the continuous-batching manager has no is_tp_driver, so it "
                "cannot keep tensor-parallel ranks in step; --tp needs a transformers whose manager coordinates "
                "its ranks")
        if is_driver != self.launch.leader:
            raise replay.EngineError(f"rank {self.launch.rank}: the manager says is_tp_driver={is_driver}, but only "
                                     "rank 0 should drive")

    def follow(self):
        """A follower rank starts its manager (warming up the engine as rank 0 does) and
        waits for its generation thread, which ends when rank 0 stops the manager."""
        self.engine_warmup()
        thread = getattr(self.mgr, "_generation_thread", None)
        if thread is None:
            raise replay.EngineError("follower: the manager has no generation thread to wait for")
        thread.join()
        self.started = False  # rank 0 stopped it

    def _interconnect(self) -> dict:
        """How the ranks' GPUs are linked: nvidia-smi topo -m, and torch's peer access."""
        world = self.launch.world_size
        try:
            text = subprocess.run(["nvidia-smi", "topo", "-m"], capture_output=True, text=True, timeout=20,
                                  check=True).stdout
        except (OSError, subprocess.SubprocessError) as e:
            print(f"hfcb driver: nvidia-smi topo -m: {e}", file=sys.stderr)
            text = ""
        p2p = {}
        for a in range(world):
            for b in range(a + 1, world):
                p2p[f"GPU{a}-GPU{b}"] = bool(self.torch.cuda.can_device_access_peer(a, b))
        return hfcb_dist.interconnect(hfcb_dist.parse_topo(text), world, p2p)

    def _distributed(self) -> dict:
        nccl = getattr(getattr(self.torch.cuda, "nccl", None), "version", None)
        return {
            "launcher": "torch.distributed.run",
            "world_size": self.launch.world_size,
            "tp": self.launch.world_size,
            "backend": "nccl",
            "nccl": ".".join(str(v) for v in nccl()) if callable(nccl) else "unknown",
            "interconnect": self._interconnect(),
            "env": hfcb_dist.collective_env(os.environ),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        }

    @staticmethod
    def _pin_rope_theta(cfg):
        """transformers 5 keeps rope_theta inside rope_parameters/rope_scaling; make sure it is 1e6."""
        for attr in ("rope_parameters", "rope_scaling"):
            params = getattr(cfg, attr, None)
            if isinstance(params, dict) and "rope_theta" in params:
                params["rope_theta"] = api.QWEN3_ROPE_THETA
                return
        if hasattr(cfg, "rope_theta"):
            cfg.rope_theta = api.QWEN3_ROPE_THETA

    def _build_cb_config(self):
        a = self.args
        cls = api.find_attr([self.tf, getattr(self.tf, "generation", None)], "ContinuousBatchingConfig")
        wanted = {"block_size": a.block_size, "num_blocks": a.num_blocks, "max_batch_tokens": a.max_batch_tokens,
                  "max_requests_per_batch": a.max_requests_per_batch, "max_memory_percent": a.max_memory_percent,
                  "use_cuda_graph": not a.no_cuda_graph, "scheduler_type": a.scheduler}
        return cls(**api.accepted_kwargs(cls, wanted, "ContinuousBatchingConfig"))

    def _generation_config(self):
        cls = api.find_attr([self.tf], "GenerationConfig")
        return cls(do_sample=False, eos_token_id=-1, max_new_tokens=self.max_new_tokens)

    def _ensure_started(self):
        if not self.started:
            self.mgr.start()
            self.started = True
            self._wait_for_batch_processor()

    def _wait_for_batch_processor(self, timeout_s: float = 120.0):
        """The generation thread builds the batch processor (cache, scheduler) after
        start(); wait for it, so that the meta line reads resolved settings and a cold
        replay's t0 comes after the engine is ready, as a server's first request would."""
        start = time.perf_counter()
        while getattr(self.mgr, "batch_processor", None) is None:
            waited = time.perf_counter() - start
            if waited > timeout_s:
                raise replay.EngineError(f"the continuous-batching manager built no batch processor in {timeout_s:.0f} s")
            if waited > 5 and not self._running():  # the thread may not report running at once
                raise replay.EngineError("the generation thread stopped before building its batch processor")
            time.sleep(0.01)

    # -- warm-up and steps ------------------------------------------------------------

    def engine_warmup(self):
        if not self.started:
            if self.args.engine_warmup:
                if not callable(getattr(self.mgr, "warmup", None)):
                    raise replay.EngineError("--engine-warmup: this manager has no warmup()")
                start = time.perf_counter()
                self.mgr.warmup()
                took = time.perf_counter() - start
                self.warm_text = f"manager.warmup() (CUDA graphs at the largest sizes, {took:.1f} s)"
            self._ensure_started()
        return self.warm_text

    def enable_steps(self):
        """Records every step (warm-up included) by wrapping the batch processor's class:
        from prepare_next_batch to the end of update_batch (two perf_counter calls per
        step), with the batch's items, the CUDA-graph key the step used and whether the
        graph cache grew during the step (a capture)."""
        from transformers.generation.continuous_batching import continuous_api as capi

        cls = api.find_attr([capi], "ContinuousBatchProcessor")
        for method in ("prepare_next_batch", "update_batch"):
            if not callable(getattr(cls, method, None)):
                raise replay.EngineError(f"--steps: {cls.__name__} has no {method}()")
        adapter, prepare, update = self, cls.prepare_next_batch, cls.update_batch

        def timed_prepare(bp, *a, **kw):
            io = getattr(bp, "inputs_and_outputs", None)
            _, before = api.graph_state(io)
            if adapter.phases is not None:
                adapter.phases.begin_step()
            start = time.perf_counter()
            scheduled = prepare(bp, *a, **kw)
            if scheduled:
                items = api.step_items(getattr(io, "requests_in_batch", None), adapter.trace_ids)
                with adapter.steps_lock:
                    adapter.pending_steps.append((start, items, before))
            return scheduled

        def timed_update(bp, *a, **kw):
            # The graph key is final once the forward ran (get_model_kwargs pads the
            # key length); update_batch does not change it.
            key, after = api.graph_state(getattr(bp, "inputs_and_outputs", None))
            result = update(bp, *a, **kw)
            end = time.perf_counter()
            with adapter.steps_lock:
                if adapter.pending_steps:
                    start, items, before = adapter.pending_steps.pop(0)
                    q = sum(it.get("prefill", 0) + it.get("decode", 0) for it in items)
                    kv = sum(it.get("past", 0) for it in items)
                    step = {"start": start, "duration_s": end - start, "items": items}
                    step.update(api.shape_fields(key, q, kv, before, after))
                    if adapter.phases is not None:
                        step["phases"] = adapter.phases.take()
                    adapter.steps.append(step)
            return result

        phases = self._install_phases() if self.args.step_phases else None
        if phases is not None:
            prepare = phases.timed("prepare_ms", prepare)
            update = phases.timed("update_ms", update)
        adapter.phases = phases
        cls.prepare_next_batch, cls.update_batch = timed_prepare, timed_update
        self.steps_on = True

    def _install_phases(self):
        """--step-phases: wraps the model runner's compute_batch and _capture_graph too
        (hfcb_phases.py says what each phase holds)."""
        import hfcb_phases

        try:
            from transformers.generation.continuous_batching import model_runner as mr
        except ImportError as e:
            raise replay.EngineError(f"--step-phases: no continuous_batching.model_runner ({e})") from e
        runner = api.find_attr([mr], "ModelRunner")
        for method in ("compute_batch", "_capture_graph"):
            if not callable(getattr(runner, method, None)):
                raise replay.EngineError(f"--step-phases: {runner.__name__} has no {method}()")
        phases = hfcb_phases.StepPhases(self.torch)
        phases.install_gc_probe()
        runner.compute_batch = phases.timed("compute_ms", runner.compute_batch)
        runner._capture_graph = phases.wrap_capture(runner._capture_graph)
        return phases

    def drain_steps(self):
        with self.steps_lock:
            steps, self.steps = self.steps, []
        return steps

    # -- replay -----------------------------------------------------------------------

    def prepare(self, requests):
        """Builds the prompt ids of the next len(requests) submissions, in submission order,
        before the replay's t0: built in submit, they cost the driver thread about 0.5 us a
        token (a seeded random id each) between a request's due time and its add_request,
        which the request's TTFT then carried (8 prompts of 1,800 tokens submitted together
        waited 7 ms for their first step; dev/kv-ladder)."""
        self.prepared = {}
        for k, req in enumerate(requests):
            eid = f"{self.counter + k + 1}/{req.id}"
            self.prepared[eid] = api.prompt_ids(self.args.seed, eid, req.prompt_tokens, self.vocab_hi)

    def submit(self, req, due):
        self._ensure_started()
        self.counter += 1
        eid = f"{self.counter}/{req.id}"
        self.trace_ids[eid] = req.id
        # Seeded by the submission (counter and id), not the request alone: the warm-up
        # replay and every repetition get fresh prompts, so the engine's prefix sharing
        # (allow_block_sharing, on by default) never turns a repeated prompt into cached
        # blocks that the real run would not have.
        ids = self.prepared.pop(eid, None)
        if ids is None:
            ids = api.prompt_ids(self.args.seed, eid, req.prompt_tokens, self.vocab_hi)
        self.mgr.add_request(ids, request_id=eid, max_new_tokens=req.output_tokens, record_timestamps=True)

    def poll(self, timeout_s):
        out = []
        result = self.mgr.get_result(timeout=timeout_s)
        while result is not None:
            eid = getattr(result, "request_id", None)
            if eid not in self.trace_ids:
                raise replay.EngineError(f"engine returned unknown request id {eid!r}")
            out.append(api.finished_from_output(result, self.trace_ids.pop(eid)))
            result = self.mgr.get_result(timeout=0)
        if not out and self.trace_ids and not self._running():
            raise replay.EngineError(f"generation thread stopped with {len(self.trace_ids)} requests unfinished")
        return out

    def _running(self) -> bool:
        if callable(getattr(self.mgr, "is_running", None)):
            return bool(self.mgr.is_running())
        thread = getattr(self.mgr, "_generation_thread", None)
        return thread is not None and thread.is_alive()

    # -- provenance -------------------------------------------------------------------

    def resolved_settings(self):
        settings = api.resolved_settings(self.mgr, self.cbc, self.model, self.model_name)
        settings["tp"] = self.launch.world_size  # checked: the model is sharded over the launch
        return settings

    def describe(self):
        bp = getattr(self.mgr, "batch_processor", None)
        cache = getattr(bp, "cache", None)
        config = {
            "continuous_batching_config": api.jsonable(getattr(self.mgr, "continuous_batching_config", None)
                                                       or self.cbc),
            "batch_processor": {k: api.jsonable(getattr(bp, k, None)) for k in (
                "max_batch_tokens", "use_async_batching", "do_sample", "return_logprobs", "sliding_window")},
            "model_runner": {k: api.jsonable(getattr(getattr(bp, "model_runner", None), k, None)) for k in (
                "use_cuda_graph_varlen", "use_cuda_graph_decode", "pad_inputs")},
            "cache": {k: api.jsonable(getattr(cache, k, None)) for k in (
                "block_size", "num_blocks", "num_pages", "max_batch_tokens", "num_groups", "use_prefix_sharing")},
            "scheduler_class": type(getattr(bp, "scheduler", None)).__name__,
            "steps_timed": self.steps_on,
            "step_phases": self.phases is not None,
        }
        model = api.jsonable(self.cfg.to_dict())
        model["weights"] = self.args.model or f"random (torch.manual_seed({self.args.seed}))"
        if self.checkpoint:
            model["weights"] += f", saved to {self.checkpoint} and loaded sharded (tp_plan=auto)"
        model["name"] = self.model_name
        if self.launch.world_size > 1:
            config["distributed"] = self._distributed()
        return {
            "engine_version": self.tf.__version__,
            "versions": {"torch": self.torch.__version__, "transformers": self.tf.__version__},
            "gpu": replay.gpu_info(),
            "engine_config": config,
            "model": model,
        }

    def stop(self):
        if self.mgr is not None and self.started:
            self.mgr.stop(block=True, timeout=60)
            self.started = False
        if self.polls is not None:
            self.polls.write()
            self.polls = None


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="local model directory; default: Qwen3-0.6B config, random weights")
    p.add_argument("--model-spec", default=None,
                   help="JSON of the target's model (simkit.ModelSpec): random weights of that Qwen3 configuration")
    p.add_argument("--tp", type=int, default=1,
                   help="tensor-parallel degree: run under torch.distributed.run with this many ranks")
    p.add_argument("--random-checkpoint", default=None,
                   help="with --tp and random weights: folder for the random checkpoint (default: under $TMPDIR)")
    p.add_argument("--attn", default="paged|sdpa", help="attn_implementation")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--block-size", type=int, default=256)
    p.add_argument("--num-blocks", type=int, default=None)
    p.add_argument("--max-batch-tokens", type=int, default=None)
    p.add_argument("--max-requests-per-batch", type=int, default=None)
    p.add_argument("--max-memory-percent", type=float, default=None)
    p.add_argument("--no-cuda-graph", action="store_true")
    p.add_argument("--scheduler", default="fifo", help="fifo or prefill_first")
    p.add_argument("--engine-warmup", action="store_true", help="also call manager.warmup() before starting")
    p.add_argument("--poll-log", default=None, metavar="DIR",
                   help="diagnostics: every rank's idle-loop events to DIR/rank<N>.jsonl (hfcb_polls.py)")
    p.add_argument("--step-phases", action="store_true",
                   help="with --steps: split every step's wall time into the engine's phases (hfcb_phases.py)")
    return p


if __name__ == "__main__":
    replay.main(HFCBAdapter, parser())
