"""Run a command as if on another kind of machine (`make test-portable`, tools/sweep_claims.py).

Usage (from the repository root):
    python tools/emulate.py NAME -- COMMAND [ARG ...]
    python tools/emulate.py --list

Float results depend on the CPU: torch's vectorised kernels (ATen), MKL's matrix products,
oneDNN and NumPy's SIMD loops each pick a code path for the instruction set they find, and
each path rounds differently; the thread count changes how reductions are split.  A
notebook saved on one machine is re-checked on learners' laptops with other CPUs, so its
compared outputs must not depend on any of this.  These settings make this machine take
the other code paths, one switch per library.  Each name is one emulated machine:
"""

from __future__ import annotations

import os
import sys

# Dispatchable NumPy targets (numpy._core._multiarray_umath.__cpu_dispatch__); the baseline
# (X86_V2) cannot be switched off.  Unknown names make NumPy refuse to import, so only names
# this NumPy knows are passed (see _numpy_disabled).
_NUMPY_ABOVE_AVX2 = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
_NUMPY_ABOVE_BASELINE = ("X86_V3", *_NUMPY_ABOVE_AVX2)

EMULATIONS: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    # name: (what it stands for, environment, NumPy targets to switch off)
    "generic": (
        "an x86 CPU with no vector extensions beyond SSE4, one thread",
        {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
         "ONEDNN_MAX_CPU_ISA": "SSE41", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        _NUMPY_ABOVE_BASELINE,
    ),
    "avx2": (
        "a 2-core AVX2 laptop (no AVX-512)",
        {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
         "ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
        _NUMPY_ABOVE_AVX2,
    ),
}


def _numpy_disabled(wanted: tuple[str, ...]) -> str:
    """The subset of wanted that this NumPy can switch off, space-separated."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:  # NumPy < 2 or another layout: leave NumPy as it is
        return ""
    return " ".join(name for name in wanted if name in __cpu_dispatch__)


def environment(name: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """base (default: os.environ) with the settings of emulation name applied."""
    if name not in EMULATIONS:
        known = ", ".join(EMULATIONS)
        raise SystemExit(f"emulate: NAME should be one of {known}, but got NAME={name!r}. "
                         f"Run `python tools/emulate.py --list` to see what each stands for.")
    _, settings, numpy_off = EMULATIONS[name]
    env = {**(os.environ if base is None else base), **settings}
    disabled = _numpy_disabled(numpy_off)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    return env


def describe(name: str) -> str:
    what, _settings, _ = EMULATIONS[name]
    env = environment(name, {})
    return f"{name}: {what}\n    " + " ".join(f"{k}={v!r}" if " " in v else f"{k}={v}"
                                              for k, v in env.items())


def main(argv: list[str]) -> int:
    if argv[:1] == ["--list"]:
        print("\n".join(describe(name) for name in EMULATIONS))
        return 0
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    env = environment(argv[0])
    print(describe(argv[0]), flush=True)
    os.execvpe(argv[2], argv[2:], env)
    return 0  # not reached


__doc__ += "".join(f"\n    {name}: {what}" for name, (what, _, _) in EMULATIONS.items()) + "\n"

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
