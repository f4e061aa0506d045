#!/usr/bin/env bash
# Build peer/: the book's own d2l==0.17.6 in a separate virtual environment, for
# `make bench-peer` (side-by-side speed) and `make test-compat` (the book as a test oracle).
#   peer/venv        torch==2.14.1 + torchvision==0.29.1 (local wheels only), d2l --no-deps
#   peer/data        Fashion-MNIST in torchvision's raw layout, timemachine.txt, the
#                    Kaggle house prices
#   peer/run         the working folder for book code, which reads "../data"
# Exits 3 with the reason on stdout when something it needs is not on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${PEER:-peer}
PYTHON=${PYTHON:-python3}
WHEELS=${PEER_WHEELS:-/opt/pypi-more/files}
FASHION=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
SHARED_DATA=${SHARED_DATA:-../shared/data}

missing() { echo "peer environment not built: $*"; exit 3; }

if [ ! -f "$PEER/.installed" ]; then
    # The CUDA builds of torch are multi-GB: install them only from wheels on this disk.
    ls "$WHEELS"/torch-2.14.1-*.whl >/dev/null 2>&1 \
        || missing "no torch-2.14.1 wheel in $WHEELS (set PEER_WHEELS)"
    ls "$WHEELS"/torchvision-0.29.1-*.whl >/dev/null 2>&1 \
        || missing "no torchvision-0.29.1 wheel in $WHEELS (set PEER_WHEELS)"
    test -x "$PEER/venv/bin/python" || "$PYTHON" -m venv "$PEER/venv"
    "$PEER/venv/bin/pip" install --quiet --find-links "$WHEELS" torch==2.14.1 torchvision==0.29.1
    "$PEER/venv/bin/pip" install --quiet --no-deps d2l==0.17.6
    "$PEER/venv/bin/pip" install --quiet -r benchmarks/peer-requirements.txt
    touch "$PEER/.installed"
fi

# Fashion-MNIST: the .gz files and their uncompressed twins, so torchvision never downloads
raw="$PEER/data/FashionMNIST/raw"
mkdir -p "$raw" "$PEER/run"
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
            t10k-labels-idx1-ubyte; do
    if [ ! -f "$raw/$name" ]; then
        test -f "$FASHION/$name.gz" || missing "$FASHION/$name.gz not found (apt-get install dataset-fashion-mnist)"
        cp "$FASHION/$name.gz" "$raw/$name.gz"
        gunzip -kf "$raw/$name.gz"
    fi
done

# The Time Machine and the Kaggle house prices where the book's d2l.download finds them
# (their SHA-1s match: no download)
for name in timemachine.txt:time-machine kaggle_house_pred_train.csv:kaggle-house \
            kaggle_house_pred_test.csv:kaggle-house; do
    file=${name%%:*} dataset=${name##*:}
    if [ ! -f "$PEER/data/$file" ]; then
        for src in "$SHARED_DATA/$file" "$HOME/.cache/d2lutils/$dataset/$file"; do
            if [ -f "$src" ]; then cp "$src" "$PEER/data/$file"; break; fi
        done
        test -f "$PEER/data/$file" \
            || missing "$file not found in $SHARED_DATA or ~/.cache/d2lutils (run make data)"
    fi
done
"$PEER/venv/bin/python" -c "import d2l.torch" >/dev/null 2>&1 \
    || missing "d2l.torch does not import in $PEER/venv (see pip's output above)"
echo "peer environment ready: $PEER/venv (d2l 0.17.6, torch 2.14.1), data in $PEER/data"
