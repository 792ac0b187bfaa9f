"""What the end-to-end tests share: a fixture Hub, the binaries and a scratch folder."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from hub import FixtureHub  # tests/hub/hub.py

BIN_DIR = os.environ.get("HF_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin")

# Made-up tokens of the fixture (test-data/hub/tokens.json).
ALICE = "fixture-token-alice"
BOB = "fixture-token-bob"


class Result:
    def __init__(self, argv, code, out, err):
        self.argv, self.code, self.out, self.err = argv, code, out, err

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"exit {self.code}: {' '.join(self.argv)}\n  stderr: {self.err.strip()[:800]}"


class Context:
    """A fixture Hub for one test module, and a fresh scratch folder for each test."""

    def __init__(self, name, hub_options):
        self.name = name
        self.hub_options = hub_options
        self.runs = []

    def __enter__(self):
        self.hub = FixtureHub(**self.hub_options)
        self.hub.start()
        self.root = tempfile.mkdtemp(prefix=f"hf-e2e-{self.name}-")
        self.count = 0
        return self

    def __exit__(self, *exc):
        self.hub.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def reset(self):
        """Before each test: no faults, an empty request log, a new scratch folder."""
        self.hub.clear_faults()
        self.hub.clear_log()
        self.hub.page_size = self.hub_options.get("page_size", 1000)
        self.runs = []
        self.count += 1
        self.tmp = os.path.join(self.root, str(self.count))
        os.makedirs(self.tmp)

    def env(self, **extra):
        """A clean environment, as a Galaxy job has: nothing of the host's HF_* settings."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.tmp,
            "HF_ENDPOINT": self.hub.endpoint,
            "HF_HOME": os.path.join(self.tmp, "hf-home"),
            "LC_ALL": "C.UTF-8",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        if self.hub.ca_file:
            env["SSL_CERT_FILE"] = self.hub.ca_file
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def run(self, tool, *args, env=None, timeout=120, input=None, cwd=None):
        argv = [os.path.join(BIN_DIR, tool), *args]
        p = subprocess.run(argv, capture_output=True, env=env or self.env(), timeout=timeout,
                           input=input, cwd=cwd or self.tmp)
        r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"))
        self.runs.append(r)
        return r

    def last_runs(self):
        return [repr(r) for r in self.runs[-3:]]

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)


def expect_exit(r, code, *fragments):
    """The run ended with `code`, and stderr says each fragment."""
    assert r.code == code, f"expected exit {code}, got {r!r}"
    for f in fragments:
        assert f in r.err, f"stderr lacks {f!r}: {r.err!r}"
    if code != 0:
        lines = [l for l in r.err.splitlines() if "error:" in l]
        assert len(lines) == 1, f"expected one error line, got {r.err!r}"
    assert "Traceback" not in r.err and "AddressSanitizer" not in r.err, r.err


def parse_tsv(text):
    """The TSV listing: (header fields dict, column names, rows as dicts)."""
    lines = text.splitlines()
    assert lines[0].startswith("# "), lines[:1]
    meta = dict(f.split("=", 1) for f in lines[0][2:].split("\t"))
    assert lines[1].startswith("#path"), lines[1:2]
    cols = lines[1][1:].split("\t")
    rows = [dict(zip(cols, l.split("\t"))) for l in lines[2:]]
    for r in rows:
        assert len(r) == len(cols), r
    return meta, cols, rows


def under_valgrind():
    with open(os.path.join(BIN_DIR, "hf-list"), "rb") as f:
        return b"valgrind" in f.read(4096)


def under_asan():
    with open(os.path.join(BIN_DIR, "hf-list"), "rb") as f:
        return b"__asan_init" in f.read()


# getrusage() of a child forked from this (large) Python process counts the pages it shared
# with the parent before exec, so a small fresh interpreter forks the binary and reports
# ru_maxrss of that child alone (its floor, a few MiB, is measured with /bin/true).
RSS_TRAMPOLINE = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss(ctx, tool, *args, env=None):
    """Runs tool (stdout to a file); returns (Result, peak RSS of the tool in KiB)."""
    out, err, rss = ctx.path("rss.out"), ctx.path("rss.err"), ctx.path("rss.kib")
    exe = tool if os.path.isabs(tool) else os.path.join(BIN_DIR, tool)
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.run([sys.executable, "-I", "-S", "-c", RSS_TRAMPOLINE, rss, exe, *args],
                           stdout=fo, stderr=fe, env=env or ctx.env(), cwd=ctx.tmp, timeout=300)
    r = Result([tool, *args], p.returncode, open(out, encoding="utf-8").read(),
               open(err, encoding="utf-8").read())
    ctx.runs.append(r)
    return r, int(open(rss).read())
