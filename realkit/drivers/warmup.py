"""Warm-up before a timed replay.

Engines capture CUDA graphs and compile kernels lazily, per shape: the first step of a
new shape can be several times slower than the warm one. The warm-up therefore runs,
before t0, requests that cover the shapes the scenario will use:

- ``shapes``: one wave per distinct prompt length (at most MAX_PREFILL_WAVES, chosen
  as evenly spaced order statistics when there are more), each a lone request with a
  few output tokens; then one concurrency wave of B requests submitted together with
  staggered output lengths (2, 3, …, B+1), so the decode batch passes through every
  size B, B−1, …, 1. B is the trace's peak overlap estimated with a pessimistic step
  time (STEP_GUESS_S per token), capped by --warmup-max-batch and the request count.
- ``replay`` (the default): ``shapes``, then the whole trace replayed once at its
  arrival times with the results discarded.
- ``none``: nothing (the adapter's own engine warm-up still runs if enabled).

Why ``replay`` is the default: on the H200 (transformers 5.17, CUDA graphs keyed by
the padded query length of each step) ``shapes`` alone left a batched trace cold,
because steps that mix a prefill with running decodes have query lengths no lone
request produces: its first timed pass had TTFT up to 424 ms and a 217 ms decode gap,
the second pass TTFT ≤ 48 ms and gaps ≤ 26 ms. Replaying the trace itself reaches the
same step shapes (up to timing jitter) before t0.

The returned policy text goes into the meta line, so a baseline says how it was warmed.
"""

from __future__ import annotations

import replay as replay_mod

POLICIES = ("shapes", "replay", "none")
MAX_PREFILL_WAVES = 64
PREFILL_WAVE_OUTPUT = 4
STEP_GUESS_S = 0.05
WAVE_TIMEOUT_S = 600.0


def prefill_lengths(requests: list) -> list:
    lengths = sorted({r.prompt_tokens for r in requests})
    if len(lengths) <= MAX_PREFILL_WAVES:
        return lengths
    last = len(lengths) - 1
    picks = {lengths[round(k * last / (MAX_PREFILL_WAVES - 1))] for k in range(MAX_PREFILL_WAVES)}
    return sorted(picks)


def estimate_concurrency(requests: list, step_s: float = STEP_GUESS_S) -> int:
    """Peak number of requests in flight if each took step_s per output token (+2 steps)."""
    events = []
    for r in requests:
        events.append((r.arrival_s, 1))
        events.append((r.arrival_s + step_s * (r.output_tokens + 2), -1))
    events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    peak = cur = 0
    for _, delta in events:
        cur += delta
        peak = max(peak, cur)
    return peak


def plan(requests: list, max_batch: int) -> list:
    """The shape waves: lists of TraceRequests submitted together."""
    waves = []
    for w, length in enumerate(prefill_lengths(requests)):
        waves.append([replay_mod.TraceRequest(f"warmup-p{w}", 0.0, length, PREFILL_WAVE_OUTPUT)])
    batch = max(1, min(estimate_concurrency(requests), max_batch, len(requests)))
    prompts = sorted(r.prompt_tokens for r in requests)
    median = prompts[len(prompts) // 2]
    waves.append([replay_mod.TraceRequest(f"warmup-c{j}", 0.0, median, 2 + j) for j in range(batch)])
    return waves


def run_wave(adapter, wave: list, timeout_s: float = WAVE_TIMEOUT_S) -> None:
    clk = adapter.clock
    start = clk()
    pending = {r.id for r in wave}
    for r in wave:
        adapter.submit(r, clk())
    while pending:
        if clk() - start > timeout_s:
            raise replay_mod.EngineError(f"warm-up wave of {len(wave)} requests not done after {timeout_s} s")
        for fin in adapter.poll(0.05):
            if fin.id not in pending:
                raise replay_mod.EngineError(f"warm-up: engine finished unknown request {fin.id!r}")
            if fin.error:
                raise replay_mod.EngineError(f"warm-up request {fin.id} failed: {fin.error}")
            pending.discard(fin.id)


class _NullEmitter:
    def emit(self, kind, **fields):
        if kind == "error":
            raise replay_mod.EngineError(f"warm-up replay: {fields.get('message')}")


def warm(adapter, requests: list, args) -> str:
    """Runs the warm-up policy ``args.warmup``; returns its description."""
    parts = []
    engine_text = adapter.engine_warmup()
    if engine_text:
        parts.append(engine_text)
    if args.warmup in ("shapes", "replay"):
        waves = plan(requests, args.warmup_max_batch)
        for wave in waves:
            run_wave(adapter, wave)
        lengths = [w[0].prompt_tokens for w in waves[:-1]]
        batch = len(waves[-1])
        parts.append(
            f"shapes: {len(lengths)} lone-request waves over prompt lengths {summarize(lengths)} "
            f"with {PREFILL_WAVE_OUTPUT} output tokens each, then {batch} requests at once "
            f"(prompt {waves[-1][0].prompt_tokens}, outputs 2..{batch + 1}) so decode batches {batch}..1 run"
        )
    if args.warmup == "replay":
        replay_mod.Replayer(adapter, _NullEmitter(), time_limit_s=args.time_limit).replay(requests, -1)
        parts.append("replay: the whole trace once at its arrival times, results discarded")
    if not parts:
        parts.append("none")
    adapter.after_warmup()
    when = "before every repetition" if args.rewarm else "before the first repetition only"
    return "; ".join(parts) + f"; {when}"


def summarize(values: list) -> str:
    if not values:
        return "none"
    if len(values) <= 8:
        return ",".join(str(v) for v in values)
    return f"{values[0]}..{values[-1]} ({len(values)} lengths)"

