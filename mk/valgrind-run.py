#!/usr/bin/env python3
"""tests/run.py with some tests left out, for make check-valgrind.

    mk/valgrind-run.py [run.py arguments]      VALGRIND_SKIP="module.test other_test ..."

A name in VALGRIND_SKIP is a test function (test_x) or module.test (test_hf_bundle.test_x).
run.py itself has no way to leave tests out: this loads it and filters each module as it is
loaded (the worker processes inherit the filter; were they spawned instead of forked, they
would run everything, which is slower but still right)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import run  # noqa: E402  tests/run.py

SKIP = set(os.environ.get("VALGRIND_SKIP", "").split())
_load = run.load


def load(path):
    mod = _load(path)
    for name in [n for n in vars(mod) if n.startswith("test_")]:
        if name in SKIP or "%s.%s" % (mod.__name__, name) in SKIP:
            delattr(mod, name)
            print("skip %s.%s (VALGRIND_SKIP)" % (mod.__name__, name), flush=True)
    return mod


run.load = load
sys.argv = [run.__file__] + sys.argv[1:]
sys.exit(run.main())
