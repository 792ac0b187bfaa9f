"""hf-fetch end to end, against the fixture Hub."""
import hashlib
import json
import os
import signal
import subprocess
import time

from support import ALICE, BIN_DIR, BOB, expect_exit

TINY = "acme/tiny-model"
BIG = "acme/big-model"


def files_of(ctx, repo, rev="main", repo_type="model"):
    return ctx.hub.files_at(repo, rev, repo_type=repo_type)


def tree(root, skip_cache=True):
    """Every file below root (relative paths), leaving out .cache/ of a local folder."""
    out = set()
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        if skip_cache and rel.split(os.sep)[0] == ".cache":
            continue
        for n in names:
            out.add(os.path.normpath(os.path.join(rel, n)))
    return out


def check_folder(folder, files):
    assert tree(folder) == set(files), (sorted(tree(folder)), sorted(files))
    for path, f in files.items():
        with open(os.path.join(folder, path), "rb") as fh:
            assert fh.read() == f["content"](), f"content of {path}"


def leftovers(root):
    """Temporary files, and lock files still held. Lock files themselves stay (empty), as
    huggingface_hub leaves them: removing one another process has open would let two in."""
    return [os.path.join(d, n) for d, _, names in os.walk(root) for n in names
            if n.endswith(".incomplete") or ".tmp-" in n or
            (n.endswith(".lock") and os.path.getsize(os.path.join(d, n)) != 0)]


def file_requests(ctx, path_part=""):
    return [q for q in ctx.hub.requests()
            if ("/resolve" in q["path"] or q["listener"] == "cdn") and path_part in q["path"]]


# --- layouts -------------------------------------------------------------------------------

def test_full_repository_local_dir(ctx):
    out = ctx.path("out")
    r = ctx.run("hf-fetch", "-o", out, "-m", ctx.path("m.json"), TINY)
    expect_exit(r, 0)
    assert r.out == out + "\n", r.out
    files = files_of(ctx, TINY)
    check_folder(out, files)
    commit = ctx.hub.commit_of(TINY, "main")
    m = json.load(open(ctx.path("m.json")))
    assert list(m) == ["repo_id", "repo_type", "revision", "commit", "commit_date", "endpoint",
                       "files", "tool", "fetched_at"], list(m)
    assert m["commit_date"].startswith("20"), m["commit_date"]
    assert m["commit"] == commit and m["revision"] == "main" and m["repo_id"] == TINY
    assert m["tool"]["name"] == "hf-fetch" and m["fetched_at"].endswith("Z")
    assert [f["path"] for f in m["files"]] == sorted(files, key=lambda p: p.encode())
    for f in m["files"]:
        want = files[f["path"]]
        assert f["sha256"] == hashlib.sha256(want["content"]()).hexdigest(), f
        assert f["git_oid"] == want["git_oid"] and f["size"] == want["size"]
        assert f["lfs"] == want["lfs"]
        assert f["url"].startswith(f"{ctx.hub.endpoint}/{TINY}/resolve/{commit}/"), f["url"]
    # the same manifest is left in the folder, and hf download's metadata beside it
    left = json.load(open(os.path.join(out, ".cache/huggingface/hf-manifest.json")))
    assert left["files"] == m["files"]
    meta = open(os.path.join(out, ".cache/huggingface/download/config.json.metadata")).read()
    assert meta.splitlines()[:2] == [commit, files["config.json"]["git_oid"]], meta
    assert not leftovers(out), leftovers(out)
    # every file was asked for at the commit, never at the branch
    for q in file_requests(ctx):
        if q["listener"] == "hub" and "/resolve/" in q["path"]:
            assert f"/resolve/{commit}/" in q["path"], q["path"]


def test_cache_layout(ctx):
    cache = ctx.path("cache")
    r = ctx.run("hf-fetch", "--cache-dir", cache, TINY)
    expect_exit(r, 0)
    commit = ctx.hub.commit_of(TINY, "main")
    repo = os.path.join(cache, "models--acme--tiny-model")
    snap = os.path.join(repo, "snapshots", commit)
    assert r.out == snap + "\n", r.out
    files = files_of(ctx, TINY)
    check_folder(snap, files)
    assert open(os.path.join(repo, "refs", "main")).read() == commit
    for path, f in files.items():
        link = os.path.join(snap, path)
        assert os.path.islink(link), path
        target = os.readlink(link)
        assert not os.path.isabs(target)
        assert target == "../" * (path.count("/") + 2) + "blobs/" + f["etag"], (path, target)
    assert sorted(os.listdir(os.path.join(repo, "blobs"))) == sorted({f["etag"] for f in
                                                                      files.values()})
    assert not leftovers(cache)
    # a second run downloads nothing again
    ctx.hub.clear_log()
    r = ctx.run("hf-fetch", "--cache-dir", cache, TINY)
    expect_exit(r, 0)
    assert file_requests(ctx) == [], [q["path"] for q in file_requests(ctx)]


def test_cache_from_environment_and_copies(ctx):
    cache = ctx.path("hub-cache")
    r = ctx.run("hf-fetch", "-t", "dataset", "acme/tiny-dataset",
                env=ctx.env(HF_HUB_CACHE=cache, HF_HUB_DISABLE_SYMLINKS="1"))
    expect_exit(r, 0)
    snap = r.out.strip()
    assert snap.startswith(os.path.join(cache, "datasets--acme--tiny-dataset", "snapshots"))
    files = files_of(ctx, "acme/tiny-dataset", repo_type="dataset")
    check_folder(snap, files)
    assert not any(os.path.islink(os.path.join(snap, p)) for p in files)
    r = ctx.run("hf-fetch", "-t", "space", "acme/tiny-space")  # HF_HOME/hub by default
    expect_exit(r, 0)
    assert r.out.startswith(os.path.join(ctx.path("hf-home"), "hub", "spaces--acme--tiny-space"))


# --- selection and revisions ---------------------------------------------------------------

def test_include_exclude_and_explicit_files(ctx):
    out = ctx.path("a")
    r = ctx.run("hf-fetch", "-o", out, "-i", "*.json", "-x", "tokenizer/*", TINY)
    expect_exit(r, 0)
    want = {p for p in files_of(ctx, TINY) if p.endswith(".json") and
            not p.startswith("tokenizer/")}
    assert tree(out) == want, tree(out)
    out = ctx.path("b")
    r = ctx.run("hf-fetch", "-o", out, "-i", "*.json", TINY, "sub dir/file with spaces.txt",
                "données/é.txt")
    expect_exit(r, 0)
    assert tree(out) == {"sub dir/file with spaces.txt", "données/é.txt"}, tree(out)
    r = ctx.run("hf-fetch", "-o", ctx.path("c"), TINY, "config.json", "nope.txt")
    expect_exit(r, 3, "nope.txt")
    assert not os.path.exists(ctx.path("c"))


def test_revisions(ctx):
    for rev in ["v1.0", "refs/pr/1", "dev", ctx.hub.commit_of(TINY, "v2.0")]:
        out = ctx.path(rev.replace("/", "_"))
        r = ctx.run("hf-fetch", "-r", rev, "-o", out, "-m", out + ".json", TINY)
        expect_exit(r, 0)
        check_folder(out, files_of(ctx, TINY, rev))
        assert json.load(open(out + ".json"))["commit"] == ctx.hub.commit_of(TINY, rev)


def test_dry_run_writes_nothing(ctx):
    out = ctx.path("dry")
    r = ctx.run("hf-fetch", "-n", "-o", out, "-i", "*.safetensors", TINY)
    expect_exit(r, 0)
    assert "model.safetensors" in r.out and "would fetch 1 files" in r.err, r.err
    assert not os.path.exists(out)
    assert file_requests(ctx) == []


# --- private and gated ---------------------------------------------------------------------

def test_private(ctx):
    r = ctx.run("hf-fetch", "-o", ctx.path("p"), "acme/private-model")
    expect_exit(r, 4, "token")
    r = ctx.run("hf-fetch", "-o", ctx.path("p"), "acme/private-model",
                env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    check_folder(ctx.path("p"), files_of(ctx, "acme/private-model"))


def test_gated(ctx):
    out = ctx.path("g")
    r = ctx.run("hf-fetch", "-o", out, "acme/gated-model", "README.md")
    expect_exit(r, 0)  # the model card is open to all
    r = ctx.run("hf-fetch", "-o", out, "acme/gated-model")
    expect_exit(r, 4, "gated", "token is needed")
    r = ctx.run("hf-fetch", "-o", out, "acme/gated-model", env=ctx.env(HF_TOKEN=BOB))
    expect_exit(r, 4, "gated", "request access")
    time.sleep(0.5)  # the hub may still be logging transfers the failed run had started
    ctx.hub.clear_log()
    r = ctx.run("hf-fetch", "-o", out, "-m", ctx.path("g.json"), "acme/gated-model",
                env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    check_folder(out, files_of(ctx, "acme/gated-model"))
    cdn = [q for q in ctx.hub.requests() if q["listener"] == "cdn"]
    assert cdn, "the LFS file came from the CDN host"
    assert all("Authorization" not in q["headers"] and "authorization" not in
               {k.lower() for k in q["headers"]} for q in cdn), cdn
    hub = [q for q in ctx.hub.requests() if q["listener"] == "hub"]
    assert all(q["headers"].get("Authorization") == f"Bearer {ALICE}" for q in hub)
    # the token is nowhere: output, manifest, metadata
    for run in ctx.runs:
        assert ALICE not in run.out + run.err + " ".join(run.argv)
    for d, _, names in os.walk(ctx.tmp):
        for n in names:
            p = os.path.join(d, n)
            if not os.path.islink(p):
                assert ALICE.encode() not in open(p, "rb").read(), p


def test_renamed_and_mirror(ctx):
    r = ctx.run("hf-fetch", "-o", ctx.path("r"), "acme/old-name", "config.json")
    expect_exit(r, 0)
    assert open(ctx.path("r", "config.json"), "rb").read() == \
        files_of(ctx, TINY)["config.json"]["content"]()
    r = ctx.run("hf-fetch", "-o", ctx.path("m"), "acme/mirror-model")
    expect_exit(r, 0)
    check_folder(ctx.path("m"), files_of(ctx, "acme/mirror-model"))


# --- faults --------------------------------------------------------------------------------

def test_429_and_5xx_then_success(ctx):
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                       "kind": "status", "status": 429, "retry_after": 1, "times": 1})
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "status", "status": 503, "times": 2})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, TINY)
    expect_exit(r, 0)
    check_folder(out, files_of(ctx, TINY))
    statuses = [q["status"] for q in ctx.hub.requests()]
    assert statuses.count(429) == 1 and statuses.count(503) == 2, statuses


def test_drop_mid_body_resumes_with_range(ctx):
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "drop",
                       "after": 5 << 20, "times": 1})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, BIG)
    expect_exit(r, 0)
    check_folder(out, files_of(ctx, BIG))
    cdn = [q for q in ctx.hub.requests() if q["listener"] == "cdn"]
    ranges = [q["headers"].get("Range") for q in cdn]
    assert ranges[0] is None and ranges[1] == f"bytes={5 << 20}-", ranges


def test_corrupt_bytes_refused(ctx):
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "corrupt", "offset": 1000})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, TINY, "model.safetensors")
    expect_exit(r, 5, "model.safetensors", "corrupt", files_of(ctx, TINY)["model.safetensors"]
                ["sha256"])
    assert not os.path.exists(os.path.join(out, "model.safetensors"))
    assert not leftovers(out), leftovers(out)
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                       "kind": "corrupt", "offset": 3})
    r = ctx.run("hf-fetch", "--cache-dir", ctx.path("cache"), TINY, "config.json")
    expect_exit(r, 5, "config.json", "git blob sha1")
    assert not [p for p in tree(ctx.path("cache"), False) if "/snapshots/" in "/" + p]


def test_corrupt_large_file_refused(ctx):
    # large files are hashed on a second thread: a bad byte is caught there too
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "corrupt",
                       "offset": 20 << 20})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, BIG, "big.bin")
    expect_exit(r, 5, "big.bin", "corrupt", files_of(ctx, BIG)["big.bin"]["sha256"])
    assert not os.path.exists(os.path.join(out, "big.bin"))
    assert not leftovers(out), leftovers(out)


def test_short_body(ctx):
    # shorter than declared, once: resumed and verified
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                       "kind": "short", "after": 50, "times": 1})
    r = ctx.run("hf-fetch", "-o", ctx.path("a"), TINY, "config.json")
    expect_exit(r, 0)
    check_folder(ctx.path("a"), {"config.json": files_of(ctx, TINY)["config.json"]})
    # never complete: refused after the retries, nothing at the final path
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "short", "after": 0, "retry_after": 0})
    r = ctx.run("hf-fetch", "-o", ctx.path("b"), TINY, "model.safetensors", timeout=120)
    expect_exit(r, 6, "model.safetensors")
    assert not os.path.exists(ctx.path("b", "model.safetensors"))


LONG = "acme/long-names"  # names of 250 bytes: a file, a file in a folder, a folder


def short_hash(name):
    import base64
    return base64.urlsafe_b64encode(hashlib.sha1(name.encode()).digest()).decode()


def test_long_names(ctx):
    # a 250-byte name fits NAME_MAX; its .incomplete, .lock and .metadata names must too:
    # huggingface_hub's names where they fit, else the short hash of the name before the suffix
    files = ctx.hub.files_at(LONG)
    out = ctx.path("out")
    r = ctx.run("hf-fetch", "-o", out, LONG)
    expect_exit(r, 0)
    check_folder(out, files)
    dl = os.path.join(out, ".cache", "huggingface", "download")
    long_file = "n" * 246 + ".bin"
    assert os.path.exists(os.path.join(dl, short_hash(long_file) + ".metadata"))
    assert os.path.exists(os.path.join(dl, "sub", short_hash("r" * 246 + ".txt") + ".metadata"))
    assert os.path.exists(os.path.join(dl, "d" * 250, "x.txt.metadata"))  # fits: as hf download
    assert os.path.exists(os.path.join(dl, "d" * 250, "x.txt.lock"))
    assert not leftovers(out)
    ctx.hub.clear_log()
    r = ctx.run("hf-fetch", "-o", out, LONG)        # present, verified, metadata rewritten
    expect_exit(r, 0)
    assert file_requests(ctx) == []
    r = ctx.run("hf-fetch", "--offline", "-o", out, LONG)
    expect_exit(r, 0, "4 files present and verified")
    for nosym in (None, "1"):
        cache = ctx.path("cache" + (nosym or ""))
        for extra in ([], ["--force"]):                # the second replaces the entries
            r = ctx.run("hf-fetch", "--cache-dir", cache, *extra, LONG,
                        env=ctx.env(HF_HUB_DISABLE_SYMLINKS=nosym))
            expect_exit(r, 0)
        snap = r.out.strip().splitlines()[-1]
        check_folder(snap, files)


def test_unsafe_paths_write_nothing(ctx):
    for bad in ["../escape.txt", "/etc/passwd", "a\\b", "ctl\x01x", "a//b"]:
        ctx.hub.clear_faults()
        ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "unsafe_paths",
                           "paths": [bad]})
        out = ctx.path("u")
        r = ctx.run("hf-fetch", "-o", out, TINY)
        expect_exit(r, 5, "unsafe path")
        assert not os.path.exists(out)
        assert not os.path.exists(ctx.path("escape.txt"))
        assert file_requests(ctx) == []


def _wait_for_size(path, size, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) >= size:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {size} bytes")


def test_kill_9_then_rerun(ctx):
    big = files_of(ctx, BIG)["big.bin"]
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "stall",
                       "after": 4 << 20, "seconds": 60})
    cache = ctx.path("cache")
    p = subprocess.Popen([os.path.join(BIN_DIR, "hf-fetch"), "--cache-dir", cache, BIG],
                         env=ctx.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    part = os.path.join(cache, "models--acme--big-model", "blobs", big["sha256"] + ".incomplete")
    try:
        _wait_for_size(part, 4 << 20)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert os.path.getsize(part) == 4 << 20
    ctx.hub.clear_faults()
    ctx.hub.clear_log()
    r = ctx.run("hf-fetch", "--cache-dir", cache, BIG)
    expect_exit(r, 0, "resuming from byte")
    check_folder(r.out.strip(), files_of(ctx, BIG))
    cdn = [q for q in ctx.hub.requests() if q["listener"] == "cdn"]
    assert [q["headers"].get("Range") for q in cdn] == [f"bytes={4 << 20}-"], cdn
    assert not leftovers(cache), leftovers(cache)


def test_two_processes_one_cache(ctx):
    cache = ctx.path("cache")
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "stall",
                       "after": 1 << 20, "seconds": 1, "times": 1})
    procs = [subprocess.Popen([os.path.join(BIN_DIR, "hf-fetch"), "--cache-dir", cache, "-q",
                               BIG], env=ctx.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    snap = outs[0][0].decode().strip()
    assert snap == outs[1][0].decode().strip()
    check_folder(snap, files_of(ctx, BIG))
    assert not leftovers(cache), leftovers(cache)
    full = [q for q in ctx.hub.requests() if q["listener"] == "cdn" and q["status"] == 200]
    assert len(full) == 1, "the blob was downloaded once, the other process waited for it"


# --- offline and lock ----------------------------------------------------------------------

def test_offline(ctx):
    cache = ctx.path("cache")
    r = ctx.run("hf-fetch", "--cache-dir", cache, "--offline", TINY)
    expect_exit(r, 3, "not in the cache")
    expect_exit(ctx.run("hf-fetch", "--cache-dir", cache, TINY, "-i", "*.json"), 0)
    ctx.hub.clear_log()
    env = ctx.env(HF_ENDPOINT="http://127.0.0.1:9")  # nothing there, and nothing is asked
    r = ctx.run("hf-fetch", "--cache-dir", cache, "--offline", TINY, env=env)
    expect_exit(r, 0)
    snap = r.out.strip()
    assert {p for p in files_of(ctx, TINY) if p.endswith(".json")} <= tree(snap)
    r = ctx.run("hf-fetch", "--cache-dir", cache, TINY, "model.safetensors",
                env=ctx.env(HF_HUB_OFFLINE="1"))
    expect_exit(r, 3, "model.safetensors")
    assert ctx.hub.requests() == [], "offline made no request"


def test_lock_round_trip_and_tampering(ctx):
    first = ctx.path("first")
    manifest = ctx.path("m.json")
    expect_exit(ctx.run("hf-fetch", "-o", first, "-m", manifest, "-r", "v1.0", TINY), 0)
    ctx.hub.clear_log()
    again = ctx.path("again")
    r = ctx.run("hf-fetch", "-o", again, "--lock", manifest, "-m", ctx.path("m2.json"))
    expect_exit(r, 0)
    check_folder(again, files_of(ctx, TINY, "v1.0"))
    m1, m2 = json.load(open(manifest)), json.load(open(ctx.path("m2.json")))
    assert m1["files"] == m2["files"] and m1["commit"] == m2["commit"]
    commit = ctx.hub.commit_of(TINY, "v1.0")
    assert not [q for q in ctx.hub.requests() if "/revision/" in q["path"]], "no resolving"
    assert all(f"/{commit}/" in q["path"] for q in ctx.hub.requests()
               if q["listener"] == "hub" and "resolve" in q["path"])
    # one hash changed: refused, nothing at that path
    m1["files"][-1]["sha256"] = "0" * 64
    with open(ctx.path("bad.json"), "w") as f:
        json.dump(m1, f)
    out = ctx.path("tampered")
    r = ctx.run("hf-fetch", "-o", out, "--lock", ctx.path("bad.json"))
    expect_exit(r, 5, m1["files"][-1]["path"])
    assert not os.path.exists(os.path.join(out, m1["files"][-1]["path"]))
    # a manifest that is not one
    with open(ctx.path("junk.json"), "w") as f:
        f.write('{"repo_id": "acme/tiny-model", "files": 3}')
    expect_exit(ctx.run("hf-fetch", "-o", out, "--lock", ctx.path("junk.json")), 2, "manifest")
    expect_exit(ctx.run("hf-fetch", "-o", out, "--lock", manifest, "acme/tiny-dataset"), 2,
                "manifest")


def test_force_refetches(ctx):
    out = ctx.path("o")
    expect_exit(ctx.run("hf-fetch", "-o", out, TINY, "config.json"), 0)
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "-o", out, TINY, "config.json"), 0)
    assert file_requests(ctx) == []
    expect_exit(ctx.run("hf-fetch", "-o", out, "--force", TINY, "config.json"), 0)
    assert file_requests(ctx, "config.json")
    # a file changed on disk is fetched again, not trusted
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write("{}")
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "-o", out, TINY, "config.json"), 0)
    assert file_requests(ctx, "config.json")
    check_folder(out, {"config.json": files_of(ctx, TINY)["config.json"]})


def test_many_files_in_parallel(ctx):
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, "-j", "8", "-i", "shard-0/*", "acme/many-files",
                timeout=300)
    expect_exit(r, 0)
    want = {p: f for p, f in files_of(ctx, "acme/many-files").items() if p.startswith("shard-0/")}
    assert len(want) == 500
    check_folder(out, want)


def test_usage_errors(ctx):
    expect_exit(ctx.run("hf-fetch", "-j", "0", TINY), 2, "--jobs")
    expect_exit(ctx.run("hf-fetch", "--progress", "fancy", TINY), 2, "--progress")
    expect_exit(ctx.run("hf-fetch", "-o", "a", "--cache-dir", "b", TINY), 2)
    expect_exit(ctx.run("hf-fetch", TINY, "../etc/passwd"), 2, "invalid FILE")
    expect_exit(ctx.run("hf-fetch"), 2, "REPO_ID")
    expect_exit(ctx.run("hf-fetch", "--lock", ctx.path("none.json")), 2, "does not exist")
    assert ctx.hub.requests() == []
    r = ctx.run("hf-fetch", "--help")
    assert r.code == 0 and "Usage: hf-fetch" in r.out
