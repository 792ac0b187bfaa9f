#!/usr/bin/env python3
"""Runs the end-to-end tests of tests/cli/ against the fixture Hub.

Each tests/cli/test_*.py defines functions named test_* taking one argument, the
Context of tests/cli/support.py (a running fixture Hub, the binaries, a scratch
folder). A module may run its tests on a hub of its own by defining
HUB_OPTIONS (keyword arguments of FixtureHub). Prints one line per test and a
last line 'N passed, N failed'; exits 1 when any failed.

  tests/run.py                 every module
  tests/run.py hf_list         the modules whose name contains hf_list
  tests/run.py -k private      only tests whose name contains 'private'
  tests/run.py -j 2            modules in 2 processes
"""
import argparse
import concurrent.futures
import importlib.util
import io
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "cli"))
sys.path.insert(0, os.path.join(HERE, "hub"))


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_module(path, keyword):
    """Runs one module's tests; returns (passed, failed, report text)."""
    import support

    out = io.StringIO()
    mod = load(path)
    tests = [(n, f) for n, f in sorted(vars(mod).items(), key=lambda kv: kv[0])
             if n.startswith("test_") and callable(f) and (not keyword or keyword in n)]
    # keep the order in which the module defines them
    order = {n: i for i, n in enumerate(vars(mod))}
    tests.sort(key=lambda t: order[t[0]])
    passed = failed = 0
    if not tests:
        return 0, 0, ""
    with support.Context(mod.__name__, getattr(mod, "HUB_OPTIONS", {})) as ctx:
        for name, fn in tests:
            ctx.reset()
            start = time.monotonic()
            try:
                fn(ctx)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failed += 1
                detail = "".join(traceback.format_exception_only(type(e), e)).strip()
                tb = traceback.extract_tb(e.__traceback__)
                where = next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(tb)
                              if f.filename == path), "")
                out.write(f"FAIL {mod.__name__}.{name} ({where}): {detail}\n")
                for line in ctx.last_runs():
                    out.write(f"     {line}\n")
            else:
                passed += 1
                out.write(f"ok   {mod.__name__}.{name} ({time.monotonic() - start:.1f} s)\n")
    return passed, failed, out.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modules", nargs="*")
    ap.add_argument("-k", dest="keyword")
    ap.add_argument("-j", dest="jobs", type=int, default=int(os.environ.get("TEST_JOBS", "2")))
    args = ap.parse_args()
    cli = os.path.join(HERE, "cli")
    paths = sorted(os.path.join(cli, f) for f in os.listdir(cli)
                   if f.startswith("test_") and f.endswith(".py")
                   and (not args.modules or any(m in f for m in args.modules)))
    passed = failed = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_module, p, args.keyword) for p in paths]
        for fut in futures:
            try:
                p, f, text = fut.result()
            except Exception:  # noqa: BLE001
                p, f, text = 0, 1, "FAIL (module crashed)\n" + traceback.format_exc()
            sys.stdout.write(text)
            sys.stdout.flush()
            passed += p
            failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
