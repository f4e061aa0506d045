"""Side-by-side benchmark of the six chapter models: d2lutils, and with --peer the book's
own d2l==0.17.6 (peer/venv, built by benchmarks/peer_env.sh), interleaved so that machine
noise hits both alike.

    python benchmarks/bench_chapters.py                  # d2lutils only (make bench)
    python benchmarks/bench_chapters.py --peer           # + the book's d2l (make bench-peer)

Each run is a fresh process (clean peak memory, no warm caches shared between packages)
that trains one model through the package's own train_ch3/train_ch8 with the book's
hyper-parameters and reports seconds per epoch (median), the final test accuracy or
perplexity and peak memory.  The d2lutils run also measures the helpers' overhead: an
epoch of train_ch3 (train pass, metrics, test evaluation) or train_epoch_ch8 against the
bare forward/backward/update passes of the same model over the same batches.
Prints a table, then the JSON (also written to --json)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEER = Path(os.environ.get("PEER", REPO / "peer"))
sys.path.insert(0, str(HERE))

from chapter_models import (  # noqa: E402
    BUILD_CH3,
    BUILD_CH8,
    CH3_MODELS,
    CH3_SETTINGS,
    CH8_SETTINGS,
    MODELS,
)

# ---------------------------------------------------------------- worker (one process)


def _import(impl: str, num_workers: int):
    """(package, module holding train_ch3's globals, module holding train_ch8's globals)."""
    if impl == "book":
        import d2l.torch as d2l

        d2l.get_dataloader_workers = lambda: num_workers  # the book's loaders read it per call
        return d2l, d2l, d2l
    import d2lutils as d2l
    from d2lutils import rnn, training

    return d2l, training, rnn


def _train_ch3(d2l, ch3_module, model: str, num_epochs: int) -> dict:
    import torch

    batch_size, _ = CH3_SETTINGS
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
    net, loss, updater = BUILD_CH3[model](d2l)
    # Time each epoch through train_ch3 itself: an epoch ends when its test accuracy is in
    stamps, accs = [], []
    evaluate = ch3_module.evaluate_accuracy

    def timed_evaluate(net, data_iter):
        acc = evaluate(net, data_iter)
        stamps.append(time.perf_counter())
        accs.append(acc)
        return acc

    ch3_module.evaluate_accuracy = timed_evaluate
    start = time.perf_counter()
    with contextlib.suppress(AssertionError):  # the book's train_ch3 asserts on its results
        d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)
    seconds = [b - a for a, b in zip([start, *stamps], stamps)]
    del torch
    return {"seconds": seconds, "metric": accs[-1], "metric_name": "test_acc"}


def _train_ch8(d2l, ch8_module, model: str, num_epochs: int) -> dict:
    import torch

    batch_size, num_steps, lr, _ = CH8_SETTINGS
    train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)
    net = BUILD_CH8[model](d2l, vocab)
    seconds, ppls = [], []
    train_epoch = ch8_module.train_epoch_ch8

    def timed_epoch(*args, **kwargs):
        start = time.perf_counter()
        ppl, speed = train_epoch(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
        ppls.append(ppl)
        return ppl, speed

    ch8_module.train_epoch_ch8 = timed_epoch
    d2l.train_ch8(net, train_iter, vocab, lr, num_epochs, torch.device("cpu"))
    return {"seconds": seconds, "metric": ppls[-1], "metric_name": "perplexity"}


def _overhead_ch3(d2l, model: str, repeats: int) -> dict:
    """Median epoch of train_epoch_ch3 + evaluate_accuracy over median bare passes."""
    import torch

    train_iter, test_iter = d2l.load_data_fashion_mnist(CH3_SETTINGS[0])
    net, loss, updater = BUILD_CH3[model](d2l)
    is_optimizer = isinstance(updater, torch.optim.Optimizer)

    def bare():
        for X, y in train_iter:
            l = loss(net(X), y)
            if is_optimizer:
                updater.zero_grad()
                l.mean().backward()
                updater.step()
            else:
                l.sum().backward()
                updater(X.shape[0])

    def helper():
        d2l.train_epoch_ch3(net, train_iter, loss, updater)
        d2l.evaluate_accuracy(net, test_iter)

    return _interleave(bare, helper, repeats)


def _overhead_ch8(d2l, model: str, repeats: int) -> dict:
    """Median train_epoch_ch8 over median bare passes (state, forward, loss, backward,
    torch's clip_grad_norm_, update) over the same batches."""
    import torch
    from torch import nn

    batch_size, num_steps, lr, _ = CH8_SETTINGS
    train_iter, vocab = d2l.load_data_time_machine(batch_size, num_steps)
    net = BUILD_CH8[model](d2l, vocab)
    params = list(net.parameters()) if isinstance(net, nn.Module) else net.params
    optimizer = torch.optim.SGD(params, lr)
    loss = nn.CrossEntropyLoss()
    batches = list(train_iter)  # the same batches for both

    def bare():
        state = None
        for X, Y in batches:
            if state is None:
                state = net.begin_state(batch_size=X.shape[0], device="cpu")
            else:
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) \
                    else state.detach()
            y_hat, state = net(X, state)
            l = loss(y_hat, Y.T.reshape(-1))
            optimizer.zero_grad()
            l.backward()
            nn.utils.clip_grad_norm_(params, 1)
            optimizer.step()

    def helper():
        d2l.train_epoch_ch8(net, batches, loss, optimizer, "cpu", False)

    return _interleave(bare, helper, repeats)


def _interleave(bare, helper, repeats: int) -> dict:
    bare()  # warm-up (allocator, first-call costs)
    times = {"bare": [], "helper": []}
    for _ in range(repeats):
        for name, fn in (("bare", bare), ("helper", helper)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    b, h = statistics.median(times["bare"]), statistics.median(times["helper"])
    return {"bare_s": b, "helper_s": h, "overhead_ratio": h / b}


def worker(impl: str, model: str, num_epochs: int, num_workers: int, overhead: int) -> dict:
    import torch

    torch.manual_seed(0)
    random.seed(0)
    d2l, ch3_module, ch8_module = _import(impl, num_workers)
    with contextlib.redirect_stdout(io.StringIO()):  # the packages' progress lines
        if model in CH3_MODELS:
            result = _train_ch3(d2l, ch3_module, model, num_epochs)
        else:
            result = _train_ch8(d2l, ch8_module, model, num_epochs)
        if overhead:
            run = _overhead_ch3 if model in CH3_MODELS else _overhead_ch8
            result.update(run(d2l, model, overhead))
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.update(impl=impl, model=model, num_workers=num_workers, epochs=num_epochs,
                  median_s=statistics.median(result["seconds"]), peak_mb=round(self_mb),
                  peak_worker_mb=round(child_mb), torch=torch.__version__,
                  threads=torch.get_num_threads())
    return result


# ---------------------------------------------------------------- driver


def _run(impl: str, model: str, epochs: int, num_workers: int = 0, overhead: int = 0,
         in_peer: bool = False) -> dict:
    if impl == "book" or in_peer:
        python, cwd = PEER / "venv" / "bin" / "python", PEER / "run"  # book reads ../data
    else:
        python, cwd = Path(sys.executable), REPO
    cmd = [str(python), str(HERE / "bench_chapters.py"), "--worker", impl, model,
           str(epochs), str(num_workers), str(overhead)]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{impl} {model} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["in_peer"] = in_peer
    return result


def _label(r: dict) -> str:
    if r["impl"] == "book":
        return f"book d2l, {r['num_workers']} workers"
    return f"d2lutils{' (peer torch)' if r['in_peer'] else ''}"


def _median_of_rounds(runs: list[dict]) -> dict:
    """One row from several rounds of the same run: medians of the per-round figures."""
    row = dict(runs[-1])
    row["rounds"] = len(runs)
    row["median_s"] = statistics.median(r["median_s"] for r in runs)
    if "overhead_ratio" in row:
        row["overhead_ratio"] = statistics.median(r["overhead_ratio"] for r in runs)
    row["peak_mb"] = max(r["peak_mb"] for r in runs)
    row["peak_worker_mb"] = max(r["peak_worker_mb"] for r in runs)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", action="store_true", help="also run the book's d2l 0.17.6")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--epochs", type=int, default=CH3_SETTINGS[1],
                        help="epochs of the chapter-3/4 models (book: 10)")
    parser.add_argument("--rnn-epochs", type=int, default=50,
                        help="epochs of the RNNs (book: 500; both packages get the same)")
    parser.add_argument("--peer-epochs", type=int, default=None,
                        help="epochs of the chapter-3/4 models for the book's d2l (default: "
                             "--epochs; fewer saves time, its s/epoch stays comparable)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every run, alternating the order; report the medians")
    parser.add_argument("--ours-in-peer", action="store_true",
                        help="with --peer, also run d2lutils on the peer's torch (same torch "
                             "as the book)")
    parser.add_argument("--overhead-repeats", type=int, default=5,
                        help="interleaved bare/helper epochs for the overhead ratio (0: skip)")
    parser.add_argument("--json", type=Path, default=REPO / "build" / "bench_chapters.json")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        impl, model, epochs, num_workers, overhead = args.worker
        print(json.dumps(worker(impl, model, int(epochs), int(num_workers), int(overhead))))
        return 0
    if args.peer and not (PEER / ".installed").is_file():
        print(f"no peer environment in {PEER}: run `make bench-peer` (it builds it first)")
        return 2

    load_before = os.getloadavg()
    runs: dict[tuple, list[dict]] = {}
    for model in args.models:
        is_ch3 = model in CH3_MODELS
        epochs = args.epochs if is_ch3 else args.rnn_epochs
        peer_epochs = (args.peer_epochs or args.epochs) if is_ch3 else args.rnn_epochs
        plan = [("d2lutils", 0, args.overhead_repeats, epochs, False)]
        if args.peer:
            if args.ours_in_peer:
                plan.append(("d2lutils", 0, 0, epochs, True))
            plan += [("book", w, 0, peer_epochs, False) for w in ((4, 0) if is_ch3 else (0,))]
        for i in range(args.rounds):  # interleaved, one model at a time, order alternating
            for impl, num_workers, overhead, n, in_peer in (plan if i % 2 == 0 else plan[::-1]):
                print(f"  {model}: {impl} ({num_workers} workers, {n} epochs, round {i + 1})...",
                      file=sys.stderr, flush=True)
                key = (model, impl, num_workers, in_peer)
                result = _run(impl, model, n, num_workers, overhead, in_peer)
                runs.setdefault(key, []).append(result)
                print(f"    {result['median_s']:.3f} s/epoch, {result['metric_name']} "
                      f"{result['metric']:.3f}", file=sys.stderr, flush=True)

    rows = [_median_of_rounds(r) for r in runs.values()]
    for model in args.models:
        ours = next(r for r in rows if r["model"] == model and r["impl"] == "d2lutils")
        for r in (x for x in rows if x["model"] == model):
            r["ratio_vs_d2lutils"] = r["median_s"] / ours["median_s"]
    print(f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    header = (f"{'model':<16}{'package':<24}{'epochs':>7}{'s/epoch':>9}{'x ours':>8}"
              f"{'metric':>18}{'peak MB':>9}{'overhead':>10}")
    print(header)
    print("-" * len(header))
    for r in rows:
        metric = f"{r['metric_name']} {r['metric']:.3f}"
        over = f"{r['overhead_ratio']:.2f}x" if "overhead_ratio" in r else ""
        peak = r["peak_mb"] + r["peak_worker_mb"] * (r["num_workers"] > 0)
        print(f"{r['model']:<16}{_label(r):<24}{r['epochs']:>7}{r['median_s']:>9.3f}"
              f"{r['ratio_vs_d2lutils']:>8.1f}{metric:>18}{peak:>9}{over:>10}")
    print("\noverhead: a train_ch3 epoch (train pass, metrics, test evaluation) or a "
          "train_epoch_ch8 epoch over the bare forward/backward/update passes")
    report = {"load_before": load_before, "load_after": os.getloadavg(), "results": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
