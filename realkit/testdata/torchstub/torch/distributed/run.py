"""A launcher stub for tests: `python -m torch.distributed.run` as simval's Go side calls
it, without torch. It accepts the flags realkit passes (--standalone,
--nproc-per-node N) and starts N copies of the script with torchrun's variables (RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), sharing this
process's stdout and stderr as torchrun does without --redirects. It forwards SIGTERM,
waits for all, and exits with the first nonzero exit code (0 if none). Any other flag
is an error, so a Go change to the command line cannot pass unnoticed.
"""

import os
import signal
import subprocess
import sys


def parse(argv):
    nproc, standalone, i = None, False, 0
    while i < len(argv) and argv[i].startswith("-"):
        flag = argv[i]
        if flag == "--standalone":
            standalone = True
            i += 1
        elif flag in ("--nproc-per-node", "--nproc_per_node") and i + 1 < len(argv):
            nproc = int(argv[i + 1])
            i += 2
        else:
            sys.exit(f"torchrun stub: unexpected flag {flag!r}")
    if nproc is None or not standalone or i >= len(argv):
        sys.exit("torchrun stub: want --standalone --nproc-per-node N SCRIPT [ARGS]")
    return nproc, argv[i:]


def main():
    nproc, cmd = parse(sys.argv[1:])
    print(f"torchrun stub: {nproc} ranks of {cmd[0]}", file=sys.stderr, flush=True)
    children = []
    for rank in range(nproc):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
                   LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1", MASTER_PORT="29500")
        children.append(subprocess.Popen([sys.executable, "-u"] + cmd, env=env))

    def forward(signum, frame):
        for c in children:
            if c.poll() is None:
                c.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    codes = [c.wait() for c in children]
    sys.exit(next((c for c in codes if c != 0), 0))


if __name__ == "__main__":
    main()
