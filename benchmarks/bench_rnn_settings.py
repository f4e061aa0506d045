"""Do the CPU-friendly RNN settings of notebooks 8.5 and 8.6 reach the book's perplexity?

    python benchmarks/bench_rnn_settings.py             # all six runs, two at a time
    python benchmarks/bench_rnn_settings.py --only scratch-sequential

The book trains for 500 epochs with 512 hidden units (8.5; 256 in 8.6) and SGD at lr 1:
about four minutes per model on a 2-core CPU.  The notebooks use 256 hidden units and
Adam, with the learning rate decaying from lr to final_lr, for 160-200 epochs.  Each
model is trained here both ways, with d2lutils.train_ch8 on the book's data (10,000
characters, batch 32, 35 steps), one thread per run, and the table shows the final
perplexity, the best of the last 10 epochs and the wall time.  Not part of `make test`."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# (model, sampling) -> {"book": settings, "course": settings}.  The course settings are
# the ones in the notebooks; keep the two in step.
BOOK = {"optimizer": "sgd", "lr": 1.0, "final_lr": None, "num_epochs": 500}
SETTINGS = {
    "scratch-sequential": {
        "book": dict(BOOK, num_hiddens=512),
        "course": {"num_hiddens": 256, "optimizer": "adam", "lr": 0.01, "final_lr": 0.0005,
                   "num_epochs": 160}},
    "scratch-random": {
        "book": dict(BOOK, num_hiddens=512),
        "course": {"num_hiddens": 256, "optimizer": "adam", "lr": 0.01, "final_lr": 0.0005,
                   "num_epochs": 200}},
    "concise-sequential": {
        "book": dict(BOOK, num_hiddens=256),
        "course": {"num_hiddens": 256, "optimizer": "adam", "lr": 0.005, "final_lr": 0.00025,
                   "num_epochs": 160}},
}


def train(name: str, which: str, seed: int) -> dict:
    """One training run in this process; returns its figures."""
    import torch
    from chapter_models import rnn_concise, rnn_scratch

    import d2lutils as d2l

    torch.set_num_threads(1)
    settings = SETTINGS[name][which]
    model, sampling = name.split("-")
    random.seed(seed)
    torch.manual_seed(seed)
    train_iter, vocab = d2l.load_data_time_machine(32, 35,
                                                   use_random_iter=sampling == "random")
    build = rnn_scratch if model == "scratch" else rnn_concise
    net = build(d2l, vocab, num_hiddens=settings["num_hiddens"])
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        history = d2l.train_ch8(net, train_iter, vocab, settings["lr"], settings["num_epochs"],
                                "cpu", use_random_iter=sampling == "random",
                                optimizer=settings["optimizer"], final_lr=settings["final_lr"])
    ppl = history.perplexity
    return {"run": name, "settings": which, **settings, "seed": seed,
            "final_perplexity": ppl[-1], "best_last_10": min(ppl[-10:]),
            "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--settings", nargs="+", choices=["book", "course"],
                        default=["book", "course"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--json", type=Path, default=HERE.parent / "build" / "bench_rnn.json")
    args = parser.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"  # the workers inherit it
    plan = [(name, which) for which in args.settings for name in args.only]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(train, name, which, args.seed) for name, which in plan]
        for future in futures:  # in plan order; each printed as soon as it is known
            row = future.result()
            rows.append(row)
            print(f"  {row['run']} ({row['settings']}): perplexity {row['final_perplexity']:.2f}"
                  f" in {row['seconds']:.0f} s", file=sys.stderr, flush=True)
    print(f"\n{'run':<20}{'settings':<9}{'hidden':>7}{'optimizer':>10}{'lr':>7}{'final_lr':>9}"
          f"{'epochs':>7}{'perplexity':>11}{'best10':>8}{'seconds':>8}")
    for r in rows:
        final_lr = "-" if r["final_lr"] is None else f"{r['final_lr']:g}"
        print(f"{r['run']:<20}{r['settings']:<9}{r['num_hiddens']:>7}{r['optimizer']:>10}"
              f"{r['lr']:>7g}{final_lr:>9}{r['num_epochs']:>7}{r['final_perplexity']:>11.2f}"
              f"{r['best_last_10']:>8.2f}{r['seconds']:>8.0f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
