"""Pure part of the hfcb profiler's CUDA-graph capture costs (graph_capture.csv): which
calibration steps captured a graph, what each cost over the warm prediction, and the
first-use costs of fresh engine processes. No torch, no GPU: unit-tested by
test_profile_hfcb.py.
"""

from __future__ import annotations

from hfcb_profile_model import (
    H200_NUM_PAGES, KV_PAD_INTERVAL, Q_PAD_INTERVAL, ProfileError, pad_to_interval, predict_step_ms,
)

# transformers 5.17 keys its graphs on (padded query tokens, padded cached tokens read,
# padded max key length) and captures one the first time a step meets a new key: the
# step then runs the forward eagerly, records it into a graph and stores it (no eviction).
# Its extra wall time over a replay is the capture cost.

CAPTURE_HEADER = ["kind", "q_pad", "kv_pad", "seqk_pad", "capture_ms", "wall_ms", "warm_pred_ms"]
CAPTURE_KINDS = ("first", "variant", "restart", "fresh_decode", "fresh_prefill", "fresh_mixed", "decode", "prefill",
                 "mixed")


def capture_kind(step: dict) -> str:
    """decode (decodes only), prefill (no decodes), mixed (both)."""
    if step["decodes"] >= step["n_req"]:
        return "decode"
    if step["decodes"] == 0:
        return "prefill"
    return "mixed"


def _key_fields(s: dict, eng: dict) -> tuple:
    key = s.get("graph_key") or ()
    if len(key) >= 3:
        return key[0], key[1], max(key[2:])
    q = pad_to_interval(s["q_tokens"], Q_PAD_INTERVAL, eng.get("budget", 8192))
    kv = pad_to_interval(s["kv_read"], KV_PAD_INTERVAL, eng.get("num_pages", H200_NUM_PAGES))
    return q, kv, ""


def kernel_variant(q_pad: int) -> str:
    """The cuDNN SDPA kernel variant a step of padded query length q_pad runs. The engine's
    attention (paged|sdpa, torch 2.11 on sm90) is cuDNN's runtime-generated fused kernel;
    a fresh process compiles it once per variant, at the first eager forward that needs
    it (0.7-1 s, inside ModelRunner._capture_graph's eager run: --step-phases). In every
    recorded fresh process (2026-12-01) the variants split on whether the padded query
    length is a multiple of 128 (the kernel's 64x128 tile): e.g. 2432, 768, 8192, 128 one
    way; 64, 320, 704, 6720, 8000 the other."""
    return "q%128=0" if q_pad % 128 == 0 else "q%128=64"


def capture_rows(steps: list, bundle: dict, eng: dict, fresh: list = (), restart: list = ()) -> list:
    """graph_capture.csv: one row per measured step that captured a new CUDA graph, with
    capture_ms = its wall time − the warm prediction of the same step from the bundle's
    own tables (predict_step_ms). Kinds: decode, prefill, mixed for the calibration
    engine's captures (a warm process: every kernel variant compiled); ``first`` for
    the first step of a freshly started engine process (``fresh``: lists of steps, one
    list per process), which pays the process's first-use costs, its kernel variant's
    compilation included; ``variant`` for a fresh process's first capture that needs the
    other attention kernel variant (kernel_variant); ``restart`` for the first step of a
    restarted process (``restart``: one list of steps per process), which finds its
    kernels compiled in the CUDA driver's JIT cache; ``fresh_decode``, ``fresh_prefill``,
    ``fresh_mixed`` for the other captures of fresh and restarted processes, which cost
    more than the same captures in the long-running calibration engine (library plans and
    heuristics met for the first time). Steps outside the tables are skipped."""
    def row(kind, s):
        try:
            warm = predict_step_ms(bundle, s["n_req"], s["q_tokens"], s["kv_read"], **eng)
        except ProfileError:
            return None
        q, kv, seqk = _key_fields(s, eng)
        return {"kind": kind, "q_pad": q, "kv_pad": kv, "seqk_pad": seqk, "capture_ms": s["wall_ms"] - warm,
                "wall_ms": s["wall_ms"], "warm_pred_ms": warm}

    rows = [r for r in (row(capture_kind(s), s) for s in steps if s["capture"]) if r]
    for proc in fresh:
        caps = [r for r in (row("first", s) for s in proc if s["capture"]) if r]
        if not caps:
            continue
        rows.append(caps[0])
        compiled = {kernel_variant(caps[0]["q_pad"])}
        kinds = [capture_kind(s) for s in proc if s["capture"]]
        for r, kind in zip(caps[1:], kinds[1:]):
            v = kernel_variant(r["q_pad"])
            if v not in compiled:
                compiled.add(v)
                rows.append(dict(r, kind="variant"))
            else:
                rows.append(dict(r, kind="fresh_" + kind))
    for proc in restart:
        caps = [r for r in (row("restart", s) for s in proc if s["capture"]) if r]
        kinds = [capture_kind(s) for s in proc if s["capture"]]
        if caps:
            rows.append(caps[0])
            rows += [dict(r, kind="fresh_" + kind) for r, kind in zip(caps[1:], kinds[1:])]
    rows.sort(key=lambda r: (CAPTURE_KINDS.index(r["kind"]), r["q_pad"], r["kv_pad"], r["capture_ms"]))
    return rows


def fresh_steps_from_run(run: dict) -> list:
    """The timed steps of every repetition of a recorded run (simval real output, a
    baseline) of fresh engine processes, one list per repetition, in the shape
    capture_rows takes."""
    procs = []
    for rep in run["repetitions"]:
        steps = []
        for x in rep.get("steps") or []:
            if x.get("warmup"):
                continue
            items = x.get("items", [])
            dec = sum(1 for it in items if it.get("decode"))
            key = tuple(x[k] for k in ("q_pad", "kv_pad", "seqk_pad") if k in x)
            steps.append({"n_req": len(items), "decodes": dec, "prefills": len(items) - dec,
                          "q_tokens": x.get("q_tokens", 0), "kv_read": x.get("kv_read", 0),
                          "wall_ms": x["duration_s"] * 1e3, "capture": bool(x.get("captured")), "graph_key": key})
        if steps:
            procs.append(steps)
    return procs
