#!/bin/sh
# Install microsoft/vidur at the commit simval pins, to run it beside simval
# (simkit/VIDUR.md). Simulation only: no GPU, no PyPI. Vidur's files are never edited:
# what it lacks (stand-ins for wandb, ddsketch and plotly_express; the Qwen3-0.6B
# model; the H200 device and node) is supplied at run time by simval's launcher
# (realkit/drivers/vidur_launch.py).
#
#   scripts/vidur-install.sh                 # or: make vidur
#   VIDUR_GIT_DIR=/path/to/vidur.git scripts/vidur-install.sh   # from a local clone or mirror
#
# Installs into $SIMVAL_VIDUR_HOME (default ${XDG_CACHE_HOME:-~/.cache}/simval/vidur):
#   src/     Vidur's source at the pinned commit (src/.simval-commit names it)
#   cache/   trained predictors, one folder per exported profile (kept across runs)
# Python: Debian's /usr/bin/python3 with Debian's packages (installed with apt-get when
# run as root; otherwise the command is printed). Nothing is copied into the repository.
set -eu

COMMIT=7d47513
HOME_DIR=${SIMVAL_VIDUR_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/simval/vidur}
PYTHON=${SIMVAL_VIDUR_PYTHON:-/usr/bin/python3}
PACKAGES="python3-numpy python3-pandas python3-sklearn python3-scipy python3-joblib python3-matplotlib python3-seaborn python3-fasteners python3-tqdm python3-plotly"

if ! "$PYTHON" -c 'import numpy, pandas, sklearn, scipy, fasteners, tqdm, matplotlib, seaborn, plotly' 2>/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y $PACKAGES
	else
		echo "vidur-install: $PYTHON lacks Vidur's dependencies; as root run:" >&2
		echo "  apt-get update && apt-get install -y $PACKAGES" >&2
		exit 1
	fi
fi

mkdir -p "$HOME_DIR"
if [ "$(cat "$HOME_DIR/src/.simval-commit" 2>/dev/null || true)" != "$COMMIT" ]; then
	git_dir=${VIDUR_GIT_DIR:-}
	if [ -z "$git_dir" ]; then
		git_dir=$HOME_DIR/vidur.git
		[ -d "$git_dir" ] || git clone --bare --filter=blob:none https://github.com/microsoft/vidur.git "$git_dir"
	fi
	rm -rf "$HOME_DIR/src.new"
	mkdir -p "$HOME_DIR/src.new"
	# Every attention.csv is a Git LFS object, absent from plain clones and mirrors;
	# simval's targets bring their own profiles (simval profile export --vidur).
	# (git still reports those missing blobs by name; only other messages are shown.)
	git --git-dir="$git_dir" archive -o "$HOME_DIR/src.tar" "$COMMIT" -- . ':(exclude)*/attention.csv' 2>"$HOME_DIR/archive.log" ||
		{ cat "$HOME_DIR/archive.log" >&2; exit 1; }
	grep -v "attention.csv'\$" "$HOME_DIR/archive.log" >&2 || true
	tar -x -C "$HOME_DIR/src.new" -f "$HOME_DIR/src.tar"
	rm -f "$HOME_DIR/src.tar" "$HOME_DIR/archive.log"
	[ -f "$HOME_DIR/src.new/vidur/main.py" ] || { echo "vidur-install: no vidur/main.py at $COMMIT" >&2; exit 1; }
	echo "$COMMIT" > "$HOME_DIR/src.new/.simval-commit"
	rm -rf "$HOME_DIR/src"
	mv "$HOME_DIR/src.new" "$HOME_DIR/src"
fi
mkdir -p "$HOME_DIR/cache"

# Smoke test: Vidur's CLI starts through the launcher (stand-ins, model and devices).
"$PYTHON" "$(dirname "$0")/../realkit/drivers/vidur_launch.py" --vidur-src "$HOME_DIR/src" -- --help >/dev/null
echo "Vidur $COMMIT installed in $HOME_DIR (python $PYTHON)."
echo "The first run of a profile trains Vidur's predictors: about 20 minutes on 2 cores."
