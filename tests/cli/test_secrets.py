"""The token stays secret: every binary, the token given every way it can be (HF_TOKEN,
HUGGING_FACE_HUB_TOKEN, --token-file, HF_TOKEN_PATH, $HF_HOME/token), through every error
path the fixture can trigger, with -v. The token must never show in stdout, stderr, any
file written or the command line, and no request to the CDN or to any host but the
endpoint's may carry it (nor any URL, nor any header but Authorization).

The token is made up for each run ("made-up-secret-" and 32 hex digits, nothing like a real
Hub token) and registered with the fixture Hub as alice's.
"""
import concurrent.futures
import json
import os
import secrets as rand
import socket
import subprocess
import time

from support import BIN_DIR, Result, expect_exit

TINY = "acme/tiny-model"
TOKEN = "made-up-secret-" + rand.token_hex(16)   # alice's
BOB = "made-up-bobs-" + rand.token_hex(16)       # bob's: no access to the gated files
WRONG = "made-up-wrong-" + rand.token_hex(16)    # not known to the Hub: 401 everywhere
ALL = (TOKEN, BOB, WRONG)
WAYS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "--token-file", "HF_TOKEN_PATH", "HF_HOME")
TOOLS = ("hf-list", "hf-fetch", "hf-bundle")


class Checker:
    """Runs the tools with the token given some way, and checks every trace they leave."""

    def __init__(self, ctx):
        self.ctx = ctx
        ctx.hub.store.tokens[TOKEN] = {"user": "alice", "role": "read"}
        ctx.hub.store.tokens[BOB] = {"user": "bob", "role": "read"}
        self.token_files = set()
        self.n = 0
        self.runs = 0

    def give(self, way, token):
        """(environment, extra arguments) that hand token to a tool the given way."""
        self.n += 1
        extra = {}
        args = []
        if way in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
            extra[way] = token
        elif way in ("--token-file", "HF_TOKEN_PATH"):
            f = self.ctx.path(f"tok-{self.n}.txt")
            with open(f, "w") as fh:
                fh.write(token + "\n")
            self.token_files.add(f)
            if way == "--token-file":
                args = ["--token-file", f]
            else:
                extra["HF_TOKEN_PATH"] = f
        else:
            home = self.ctx.path(f"home-{self.n}")
            os.makedirs(home)
            with open(os.path.join(home, "token"), "w") as fh:
                fh.write(token)
            self.token_files.add(os.path.join(home, "token"))
            extra["HF_HOME"] = home
        return extra, args

    def argv(self, tool, repo, label, rev):
        out = self.ctx.path(f"{label}-{tool}")
        common = ["-v", "-r", rev]
        if tool == "hf-list":
            return common + [repo]
        if tool == "hf-fetch":
            return common + ["-o", out, "-m", out + ".json", repo, "config.json",
                             "model.safetensors"]
        return common + ["-o", out + ".tar", "--repo", repo, "-i", "config.json", "-i",
                         "model.safetensors"]

    def run(self, tool, way, label, token=TOKEN, repo=TINY, env=None, expect=None, args=None,
            rev="main"):
        extra, targs = self.give(way, token)
        e = self.ctx.env(**extra)
        if env:
            e.update(env)
        argv = [os.path.join(BIN_DIR, tool), *targs,
                *(args if args is not None else self.argv(tool, repo, label, rev))]
        p = subprocess.run(argv, capture_output=True, env=e, cwd=self.ctx.tmp, timeout=180)
        r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"))
        self.ctx.runs.append(r)
        self.runs += 1
        self.check_output(r, f"{label}: {tool} ({way})")
        if expect is not None:
            assert r.code == expect, f"{label}: {tool} ({way}): expected exit {expect}, got {r!r}"
        return r

    @staticmethod
    def check_output(r, what):
        for tok in ALL:
            core = tok.rsplit("-", 1)[1]
            for name, text in (("stdout", r.out), ("stderr", r.err), ("argv", " ".join(r.argv))):
                assert core not in text, f"{what}: the token shows in {name}: {text[:2000]}"
        assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r.err

    def check_requests(self, label, token_expected=True):
        """No request but those to the endpoint's origin carries the token, and there only in
        Authorization."""
        home = self.ctx.hub.endpoint.split("//", 1)[1]
        carried = 0
        for q in self.ctx.hub.requests():
            for tok in ALL:
                core = tok.rsplit("-", 1)[1]
                if q["listener"] == "cdn" or q["host"] != home:
                    assert core not in json.dumps(q), f"{label}: the token went to {q['host']}: {q}"
                    continue
                assert core not in q["path"], f"{label}: the token is in a URL: {q['path']}"
                for k, v in q["headers"].items():
                    if k.lower() != "authorization":
                        assert core not in v, f"{label}: the token is in header {k}"
                if q["headers"].get("Authorization") == f"Bearer {tok}":
                    carried += 1
        if token_expected:
            assert carried, f"{label}: the token never reached the Hub (was it loaded?)"

    def check_files(self):
        """No file the runs wrote holds the token (but the token files the test made)."""
        scanned = 0
        for d, _, names in os.walk(self.ctx.tmp):
            for n in names:
                p = os.path.join(d, n)
                if p in self.token_files or os.path.islink(p) or not os.path.isfile(p):
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                scanned += 1
                for tok in ALL:
                    assert tok.rsplit("-", 1)[1].encode() not in data, f"the token is in {p}"
        return scanned


def scenario(ctx, chk, label, faults, expect, repo=TINY, ways=None, token=TOKEN, env=None,
             rev="main"):
    """Every tool through one error path; expect maps a tool to its exit code (None: any)."""
    ctx.hub.clear_faults()
    ctx.hub.clear_log()
    for f in faults:
        ctx.hub.add_fault(f)
    for i, tool in enumerate(TOOLS):
        for way in ways or (WAYS[(len(label) + i) % len(WAYS)],):
            chk.run(tool, way, label, token=token, repo=repo, env=env, expect=expect.get(tool),
                    rev=rev)
    chk.check_requests(label, token_expected=env is None)


def test_every_way_every_tool(ctx):
    chk = Checker(ctx)
    scenario(ctx, chk, "ok", [], {"hf-list": 0, "hf-fetch": 0, "hf-bundle": 0}, ways=WAYS)
    # the LFS file came from the CDN, without the token (checked in check_requests)
    assert any(q["listener"] == "cdn" for q in ctx.hub.requests())
    # hf-bundle from the folder hf-fetch wrote, and hf-fetch --lock from its manifest
    chk.run("hf-bundle", "HF_TOKEN_PATH", "source",
            args=["-v", "-o", ctx.path("src.tar"), ctx.path("ok-hf-fetch")], expect=0)
    chk.run("hf-fetch", "HF_HOME", "lock",
            args=["-v", "-o", ctx.path("lock"), "--lock", ctx.path("ok-hf-fetch.json")], expect=0)
    scenario(ctx, chk, "401", [], {"hf-list": 4, "hf-fetch": 4, "hf-bundle": 4}, token=WRONG)
    scanned = chk.check_files()
    assert scanned > 10, scanned


def test_every_error_path(ctx):
    chk = Checker(ctx)
    fast = {"retry_after": 0}
    scenario(ctx, chk, "403", [{"repo": TINY, "where": "api", "kind": "status", "status": 403}],
             {"hf-list": 4, "hf-fetch": 4, "hf-bundle": 4})
    scenario(ctx, chk, "403-file", [{"repo": TINY, "where": "resolve", "kind": "status",
                                     "status": 403}],
             {"hf-list": 0, "hf-fetch": 4, "hf-bundle": 4})
    scenario(ctx, chk, "404", [], {"hf-list": 3, "hf-fetch": 3, "hf-bundle": 3},
             repo="acme/no-such-model")
    scenario(ctx, chk, "404-rev", [], {"hf-list": 3, "hf-fetch": 3, "hf-bundle": 3},
             rev="no-such-branch")
    scenario(ctx, chk, "private", [], {"hf-list": 3, "hf-fetch": 3, "hf-bundle": 3},
             repo="acme/private-model", token=BOB)
    scenario(ctx, chk, "gated", [], {"hf-list": 0, "hf-fetch": 4, "hf-bundle": 4},
             repo="acme/gated-model", token=BOB)
    scenario(ctx, chk, "429", [dict(fast, repo=TINY, kind="status", status=429)],
             {"hf-list": 6, "hf-fetch": 6, "hf-bundle": 6})
    scenario(ctx, chk, "429-file", [dict(fast, repo=TINY, where="cdn", kind="status",
                                         status=429)],
             {"hf-list": 0, "hf-fetch": 6, "hf-bundle": 6})
    scenario(ctx, chk, "5xx", [dict(fast, repo=TINY, where="api", kind="status", status=503)],
             {"hf-list": 6, "hf-fetch": 6, "hf-bundle": 6})
    scenario(ctx, chk, "5xx-file", [dict(fast, repo=TINY, where="resolve", path="config.json",
                                         kind="status", status=500)],
             {"hf-list": 0, "hf-fetch": 6, "hf-bundle": 6})
    scenario(ctx, chk, "bad-json", [{"repo": TINY, "where": "api", "kind": "bad_json"}],
             {"hf-list": 5, "hf-fetch": 5, "hf-bundle": 5})
    scenario(ctx, chk, "unsafe", [{"repo": TINY, "where": "tree", "kind": "unsafe_paths"}],
             {"hf-list": 5, "hf-fetch": 5, "hf-bundle": 5})
    scenario(ctx, chk, "corrupt", [{"repo": TINY, "where": "resolve", "kind": "corrupt",
                                    "offset": 3}],
             {"hf-list": 0, "hf-fetch": 5, "hf-bundle": 5})
    scenario(ctx, chk, "redirect-host", [{"repo": TINY, "kind": "redirect_host", "times": 3}],
             {"hf-list": None, "hf-fetch": None, "hf-bundle": None})
    scenario(ctx, chk, "redirect-cdn", [{"repo": TINY, "where": "cdn", "kind": "redirect_host",
                                         "host": "127.0.0.1", "port": "cdn"}],
             {"hf-list": 0, "hf-fetch": 0, "hf-bundle": 0})
    scenario(ctx, chk, "redirect-loop", [{"repo": TINY, "where": "resolve",
                                          "kind": "redirect_loop"}],
             {"hf-list": 0, "hf-fetch": 5, "hf-bundle": 5})
    scenario(ctx, chk, "cut", [{"repo": TINY, "where": "cdn", "kind": "drop", "after": 100,
                                "times": 1}],
             {"hf-list": 0, "hf-fetch": 0, "hf-bundle": 0})
    # a token that cannot go in a header: refused, and not quoted
    for way in WAYS:
        for bad in (TOKEN + " tail", TOKEN + "\x01", "\u00e9" + TOKEN):
            chk.run("hf-list", way, "bad-token", token=bad, expect=2)
    assert chk.check_files() > 20


def test_network_refused(ctx):
    """Nothing listens at the endpoint: every tool retries, fails with exit 6, and says
    nothing of the token (the three run at once: each waits 23 s in its retries)."""
    chk = Checker(ctx)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()   # a port nothing listens on
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    ctx.hub.clear_log()
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futs = [pool.submit(chk.run, tool, WAYS[i + 1], "refused", env=env, expect=6)
                for i, tool in enumerate(TOOLS)]
        for f in futs:
            f.result()
    assert ctx.hub.requests() == []
    assert time.monotonic() - t < 120
    chk.check_files()


def test_command_line_of_a_running_tool(ctx):
    """While a download is under way, its /proc/PID/cmdline holds no token (there is no
    option that takes one)."""
    chk = Checker(ctx)
    ctx.hub.add_fault({"repo": "acme/big-model", "path": "big.bin", "where": "cdn",
                       "kind": "stall", "after": 1 << 20, "seconds": 3, "times": 1})
    extra, args = chk.give("--token-file", TOKEN)
    argv = [os.path.join(BIN_DIR, "hf-fetch"), *args, "-v", "-o", ctx.path("big"),
            "acme/big-model"]
    p = subprocess.Popen(argv, env=ctx.env(**extra), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    seen = []
    try:
        end = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < end:
            try:
                with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                    seen.append(f.read())
            except OSError:
                break
            time.sleep(0.2)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err.decode()
    assert seen, "the process was never seen running"
    core = TOKEN.rsplit("-", 1)[1].encode()
    assert all(core not in c for c in seen)
    assert core not in out + err
    chk.check_requests("cmdline")
    chk.check_files()


def test_server_echoing_the_token(ctx):
    """A server (a mirror, a proxy) that quotes the Authorization header in its error
    message: what the tools print of it must not show the token."""
    chk = Checker(ctx)
    for status in (401, 403, 500):
        ctx.hub.clear_faults()
        ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "status", "status": status,
                           "retry_after": 0,
                           "message": f"Invalid credentials in Authorization header: "
                                      f"Bearer {TOKEN}"})
        for tool in TOOLS:
            chk.run(tool, "HF_TOKEN", f"echo-{status}")


def fragments(tok):
    """Pieces of the token's secret part that a message cut in the middle of it would show."""
    core = tok.rsplit("-", 1)[1]
    return [core[:8], core[8:16], core[-8:]]


def check_no_fragment(r, what):
    for tok in ALL:
        for frag in fragments(tok):
            for name, text in (("stdout", r.out), ("stderr", r.err)):
                assert frag not in text, f"{what}: part of the token shows in {name}: {text}"


def test_token_echoed_in_data(ctx):
    """A server echoing the token in the data it sends: a tree path, lastModified, an error
    body, X-Error-Message, X-Request-Id (the token split where messages are cut), a redirect's
    Location. Data holding the token is refused (exit 5) before it reaches stdout, the manifest
    or a file name; messages mask it before they are shortened."""
    chk = Checker(ctx)
    port = ctx.hub.endpoint.rsplit(":", 1)[1]
    # the token's secret part starts 16 characters before the 300-character cut of a server's
    # message, and 16 before the 64-character cut of a request id
    pad_msg = "x" * (300 - 4 - 16 - len("made-up-secret-"))
    pad_rid = "r" * (64 - 16 - len("made-up-secret-"))
    cases = [
        ("path", [{"repo": TINY, "where": "tree", "kind": "unsafe_paths",
                   "paths": [f"dir/{TOKEN}.bin"]}], {"hf-list": 5, "hf-fetch": 5, "hf-bundle": 5}),
        ("last-modified", [{"repo": TINY, "where": "api", "kind": "info_override",
                            "fields": {"lastModified": f"2024-01-01T00:00:00.000Z{TOKEN}"}}],
         {"hf-list": 5, "hf-fetch": 5, "hf-bundle": 5}),
        ("error-body", [{"repo": TINY, "where": "api", "kind": "status", "status": 403,
                         "body_only": True, "message": pad_msg + TOKEN}],
         {"hf-list": 4, "hf-fetch": 4, "hf-bundle": 4}),
        ("error-message", [{"repo": TINY, "where": "resolve", "kind": "status", "status": 404,
                            "message": pad_msg + TOKEN, "request_id": pad_rid + TOKEN}],
         {"hf-list": 0, "hf-fetch": 3, "hf-bundle": 3}),
        ("request-id", [{"repo": TINY, "where": "api", "kind": "status", "status": 500,
                         "retry_after": 0, "request_id": pad_rid + TOKEN}],
         {"hf-list": 6, "hf-fetch": 6, "hf-bundle": 6}),
        ("location", [{"repo": TINY, "where": "resolve", "path": "config.json",
                       "kind": "redirect_scheme",
                       "location": f"http://127.0.0.1:{port}/x?t={TOKEN}"}],
         {"hf-list": 0, "hf-fetch": 5, "hf-bundle": 5}),
    ]
    for label, faults, expect in cases:
        scenario(ctx, chk, f"echo-{label}", faults, expect, ways=("HF_TOKEN",))
        for r in ctx.runs[-3:]:
            check_no_fragment(r, label)
            assert "***" in r.err or r.code in (0, 5), f"{label}: nothing was masked: {r.err}"
    for r in ctx.runs:
        if r.code == 5:
            assert "access token" in r.err, r.err
    chk.check_files()


def test_token_file_that_is_a_folder_or_unreadable(ctx):
    """--token-file naming a folder or a file that cannot be read: exit 2 naming it, not a
    silent run without a token (here /proc/self/mem, which no one can read from its start)."""
    folder = ctx.path("tokens")
    os.makedirs(folder)
    for tool, args in (("hf-list", [TINY]), ("hf-fetch", ["-o", ctx.path("o"), TINY]),
                       ("hf-bundle", ["-o", ctx.path("b.tar"), "--repo", TINY])):
        r = ctx.run(tool, "--token-file", folder, *args)
        expect_exit(r, 2, f"token file {folder} is a folder")
        r = ctx.run(tool, "--token-file", "/proc/self/mem", *args)
        expect_exit(r, 2, "cannot read token file /proc/self/mem")
        r = ctx.run(tool, *args, env=ctx.env(HF_TOKEN_PATH=folder))
        expect_exit(r, 2, "is a folder")
    assert ctx.hub.requests() == []
    assert not os.path.exists(ctx.path("o")) and not os.path.exists(ctx.path("b.tar"))


def test_upload_every_way_every_error(ctx):
    """hf-upload with a write token given every way, through its own error paths (a read-only
    token, refused and failing write steps, storage refusing a part): the token shows nowhere
    and never goes to the storage host (whose pre-signed URLs the fixture checks too)."""
    chk = Checker(ctx)
    ctx.hub.store.tokens[TOKEN] = {"user": "alice", "role": "write"}
    src = ctx.path("up")
    os.makedirs(src)
    with open(os.path.join(src, "w.safetensors"), "wb") as f:
        f.write(os.urandom(3000))
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("a\n")
    fast = {"retry_after": 0}

    def upload(label, way, expect, faults=(), token=TOKEN, repo="alice/secret"):
        ctx.hub.clear_faults()
        ctx.hub.clear_log()
        for f in faults:
            ctx.hub.add_fault(dict(f, repo=repo))
        with open(os.path.join(src, "a.txt"), "w") as f:   # something to commit every time
            f.write(label + "\n")
        with open(os.path.join(src, "w.safetensors"), "wb") as f:   # and to send to storage
            f.write(os.urandom(3000))
        chk.run("hf-upload", way, label, token=token, expect=expect,
                args=["-v", "--create", "-o", ctx.path(label + ".json"), repo, src])
        chk.check_requests(label)
        if expect in (0, 8):
            assert any(q["listener"] == "cdn" for q in ctx.hub.requests()), label

    for way in WAYS:
        upload("ok-" + way, way, 0)
    upload("read-only", "HF_TOKEN", 4, token=BOB, repo="bob/secret")
    upload("batch-5xx", "HF_HOME", 6, [dict(fast, where="batch", kind="status", status=503)])
    upload("commit-5xx", "--token-file", 6, [dict(fast, where="commit", kind="status", status=500)])
    # the storage host keeps refusing its URLs: fresh ones from the batch API, then exit 6
    upload("storage-403", "HF_TOKEN_PATH", 6, [{"where": "upload", "kind": "status", "status": 403}])
    upload("conflict", "HF_TOKEN", 8, [{"where": "commit", "kind": "status", "status": 412}])
    assert chk.check_files() > 5
