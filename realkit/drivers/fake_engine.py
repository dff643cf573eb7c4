"""A fake engine adapter: a test double for the replay loop, no GPU, no torch.

Every request is served on its own (unbounded parallelism): its first token comes
``prefill_s`` after submission and then one token every ``step_s``. With a FakeClock
the whole replay is deterministic; with the real clock it sleeps for real, which is
what simval's Go tests drive through fake_driver.py.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import hfcb_dist
import replay


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, dt: float) -> None:
        # Always move forward when asked to: otherwise a wait shorter than half an ulp
        # would be absorbed and a loop waiting for "now >= t" would never end.
        if dt > 0:
            self.now = max(self.now + dt, math.nextafter(self.now, math.inf))


class FakeEngine(replay.EngineAdapter):
    name = "fake"

    def __init__(self, *, clock=None, sleep=None, step_s=0.01, prefill_s=0.02, submit_cost_s=0.0, load_s=0.0,
                 crash_after=None, crash_mode="raise", short_id=None, spawn_child=False, announce=False, tp=1,
                 environ=None):
        self._clock = clock or time.perf_counter
        self._sleep = sleep or time.sleep
        self.step_s, self.prefill_s, self.submit_cost_s, self.load_s = step_s, prefill_s, submit_cost_s, load_s
        self.crash_after, self.crash_mode, self.short_id = crash_after, crash_mode, short_id
        self.spawn_child = spawn_child
        self.announce = announce
        self.child = None
        self.inflight = []  # (completion, Finished)
        self.returned = 0
        self.steps_on = False
        self.steps = []
        self.submissions = []  # (id, clock at submit) for tests
        # --tp N: the fake checks its launch as the hfcb driver does, so that Go's
        # torchrun path can be tested with a launcher stub and no torch.
        self.tp = tp
        self.launch = hfcb_dist.launch_from_env(os.environ if environ is None else environ)
        hfcb_dist.check_tp(self.launch, tp)

    def clock(self) -> float:
        return self._clock()

    def pause(self, seconds: float) -> None:
        self._sleep(seconds)

    def load(self) -> None:
        # Printed once the driver's SIGTERM handler is in place (replay.main installs it
        # before loading): a test that stops the driver during load knows from this line
        # whether the driver could still say why it stopped.
        if self.announce:
            print("fake engine: loading", file=sys.stderr, flush=True)
        self._sleep(self.load_s)
        if self.spawn_child:
            # A grandchild that outlives us unless the whole process group is killed.
            self.child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])

    def enable_steps(self) -> None:
        self.steps_on = True

    def follow(self) -> None:
        # Nothing to mirror: the fake has no collectives. Saying so on stderr lets a test
        # see that the follower rank ran (and wrote nothing on stdout).
        print(f"fake engine: rank {self.launch.rank} of {self.launch.world_size} following", file=sys.stderr,
              flush=True)

    def submit(self, req, due):
        if self.submit_cost_s:
            self._sleep(self.submit_cost_s)
        start = self.clock()
        self.submissions.append((req.id, start))
        first = start + self.prefill_s
        n = req.output_tokens - (1 if req.id == self.short_id else 0)
        times = [first + k * self.step_s for k in range(n)]
        done = times[-1] if times else first
        self.inflight.append((done, replay.Finished(req.id, times, first_scheduled=start)))

    def poll(self, timeout_s):
        now = self.clock()
        earliest = min((done for done, _ in self.inflight), default=None)
        until_earliest = earliest is not None and earliest - now <= timeout_s
        self._sleep(max(earliest - now, 0.0) if until_earliest else timeout_s)
        now = self.clock()
        if until_earliest:
            now = max(now, earliest)  # rounding must not hide the completion we slept until
        ready = sorted((x for x in self.inflight if x[0] <= now), key=lambda x: x[0])
        self.inflight = [x for x in self.inflight if x[0] > now]
        out = []
        for done, fin in ready:
            warm = fin.id.startswith("warmup-")  # crashes count replayed requests only
            if not warm and self.crash_after is not None and self.returned >= self.crash_after:
                if self.crash_mode == "exit":
                    os._exit(3)
                raise replay.EngineError(f"fake engine crashed after {self.returned} requests")
            self.returned += 0 if warm else 1
            if self.steps_on:
                self.steps.append({"start": done - self.step_s, "duration_s": self.step_s,
                                   "items": [{"id": fin.id, "decode": 1, "past": 8}], "q_tokens": 1, "kv_read": 8,
                                   "captured": warm, "graphs": 1})
            out.append(fin)
        return out

    def drain_steps(self):
        steps, self.steps = self.steps, []
        return steps

    def resolved_settings(self):
        return {"scheduler": "fake", "token_budget": 512, "max_seqs": 8, "block_size": 16, "tp": self.tp, "pp": 1,
                "attention_backend": "none", "dtype": "none", "cuda_graphs": False, "model": "fake"}

    def describe(self):
        config = {"step_s": self.step_s, "prefill_s": self.prefill_s}
        if self.child is not None:
            config["child_pid"] = self.child.pid
        if self.launch.world_size > 1:
            config["distributed"] = {"world_size": self.launch.world_size, "tp": self.tp, "rank": self.launch.rank}
        return {"engine_version": "fake-1", "versions": {"fake": "1"},
                "gpu": {"name": "none", "driver": "none", "cuda": "none", "count": 0},
                "engine_config": config, "model": {"name": "fake"}}

    def stop(self):
        if self.child is not None:
            self.child.kill()
            self.child.wait()
            self.child = None
