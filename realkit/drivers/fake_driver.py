"""The fake engine behind simval's replay protocol: for Go tests of realkit.Run.

Usage: fake_driver.py --trace T [--step-s S] [--prefill-s S] [--load-s S]
       [--crash-after K [--crash-mode raise|exit]] [--short-id ID] [--spawn-child]
       [--ignore-term] [--tp N] plus the common replay flags.
"""

import argparse
import signal

import fake_engine
import replay


def make_adapter(args):
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return fake_engine.FakeEngine(step_s=args.step_s, prefill_s=args.prefill_s, load_s=args.load_s,
                                  crash_after=args.crash_after, crash_mode=args.crash_mode, short_id=args.short_id,
                                  spawn_child=args.spawn_child, announce=True, tp=args.tp)


def parser():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--step-s", type=float, default=0.002)
    p.add_argument("--prefill-s", type=float, default=0.004)
    p.add_argument("--load-s", type=float, default=0.0)
    p.add_argument("--crash-after", type=int, default=None)
    p.add_argument("--crash-mode", choices=("raise", "exit"), default="raise")
    p.add_argument("--short-id", default=None, help="report one token too few for this request")
    p.add_argument("--spawn-child", action="store_true", help="start a sleeping grandchild process")
    p.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM")
    p.add_argument("--tp", type=int, default=1, help="ranks of the launch, as the hfcb driver's --tp")
    return p


if __name__ == "__main__":
    replay.main(make_adapter, parser())
