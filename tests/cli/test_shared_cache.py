"""One cache (or one local folder), two clients: hf-fetch and a stand-in for huggingface_hub
0.36 (tests/cli/hfhub_standin.py: its locks, lock files left behind, its own .incomplete
writes and its metadata), in turn and at the same time. Each must find what the other left
without waiting or downloading it again, and when both fetch one blob at once there is one
download, a correct blob, and both succeed."""
import base64
import hashlib
import os
import re
import subprocess
import sys
import time

from support import BIN_DIR, expect_exit

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "hfhub_standin.py")
TINY = "acme/tiny-model"
MODEL_DIR = "models--acme--tiny-model"
LFS = "weights/part-00001.bin"  # 3 MiB, LFS
REGULAR = "config.json"


def standin(ctx, filename, *args, background=False):
    argv = [sys.executable, STANDIN, ctx.hub.endpoint, TINY, filename, *args]
    if background:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=ctx.env(), cwd=ctx.tmp)
    p = subprocess.run(argv, capture_output=True, env=ctx.env(), cwd=ctx.tmp, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return p.stderr.decode()


def wait_for(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def content_gets(ctx, sha256=None, path=None):
    """GET requests that carried a file's bytes (CDN for LFS, resolve for regular files)."""
    out = []
    for e in ctx.hub.requests():
        if e["method"] != "GET" or e["status"] not in (200, 206):
            continue
        if sha256 and e["listener"] == "cdn" and sha256 in e["path"]:
            out.append(e)
        elif path and "/resolve/" in e["path"] and e["path"].endswith("/" + path):
            out.append(e)
    return out


def check_blob(cache, f):
    blob = os.path.join(cache, MODEL_DIR, "blobs", f["etag"])
    data = open(blob, "rb").read()
    assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"], \
        "the blob is corrupt"


def test_cache_the_other_client_left(ctx):
    # huggingface_hub leaves its lock files behind: nobody holds them, so hf-fetch must not
    # wait for them (nor remove them), and finds the blobs it left present and verified
    cache = ctx.path("cache")
    files = ctx.hub.files_at(TINY)
    for name in (REGULAR, LFS):
        standin(ctx, name, "--cache-dir", cache)
    locks = sorted(os.listdir(os.path.join(cache, ".locks", MODEL_DIR)))
    assert locks == sorted(files[n]["etag"] + ".lock" for n in (REGULAR, LFS)), locks
    ctx.hub.clear_log()
    start = time.monotonic()
    r = ctx.run("hf-fetch", "-v", "--cache-dir", cache, TINY, REGULAR, LFS, timeout=60)
    took = time.monotonic() - start
    expect_exit(r, 0)
    assert "waiting" not in r.err, r.err
    assert content_gets(ctx, files[LFS]["sha256"], REGULAR) == [], "fetched again"
    assert sorted(os.listdir(os.path.join(cache, ".locks", MODEL_DIR))) == locks, \
        "the other client's lock files were removed"
    sys.stderr.write(f"     shared cache: hf-fetch on the other client's cache: {took:.2f} s\n")
    r = ctx.run("hf-fetch", "--offline", "--cache-dir", cache, TINY, REGULAR, LFS, timeout=60)
    expect_exit(r, 0, "2 files present and verified")


def test_both_at_once_python_first(ctx):
    cache = ctx.path("cache")
    f = ctx.hub.files_at(TINY)[LFS]
    p = standin(ctx, LFS, "--cache-dir", cache, "--chunk-delay", "0.04", background=True)
    incomplete = os.path.join(cache, MODEL_DIR, "blobs", f["etag"] + ".incomplete")
    wait_for(lambda: os.path.exists(incomplete) and os.path.getsize(incomplete) > 0,
             "the other client's download")
    r = ctx.run("hf-fetch", "--cache-dir", cache, TINY, LFS, timeout=60)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err.decode()
    expect_exit(r, 0)
    assert r.err.count("another process is fetching it") == 1, r.err
    assert len(content_gets(ctx, f["sha256"])) == 1, "the blob was downloaded twice"
    check_blob(cache, f)


def test_both_at_once_hf_fetch_first(ctx):
    cache = ctx.path("cache")
    f = ctx.hub.files_at(TINY)[LFS]
    # hf-fetch's transfer pauses after 1 MiB: the other client starts meanwhile
    ctx.hub.add_fault({"repo": TINY, "path": LFS, "where": "cdn", "kind": "stall",
                       "after": 1 << 20, "seconds": 2, "times": 1})
    argv = [os.path.join(BIN_DIR, "hf-fetch"), "--cache-dir", cache, TINY, LFS]
    fetch = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ctx.env(), cwd=ctx.tmp)
    incomplete = os.path.join(cache, MODEL_DIR, "blobs", f["etag"] + ".incomplete")
    wait_for(lambda: os.path.exists(incomplete) and os.path.getsize(incomplete) > 0,
             "hf-fetch's download")
    err = standin(ctx, LFS, "--cache-dir", cache)
    out, ferr = fetch.communicate(timeout=60)
    assert fetch.returncode == 0, ferr.decode()
    assert "waiting for lock" in err, err
    assert "Downloading" not in err, "the other client downloaded it too: " + err
    assert len(content_gets(ctx, f["sha256"])) == 1, "the blob was downloaded twice"
    check_blob(cache, f)


def test_local_dir_hf_fetch_metadata_read_by_the_other(ctx):
    # what hf-fetch leaves in a local folder is fresh for huggingface_hub: no request at all
    # for the commit, and no download for a branch
    out = ctx.path("out")
    commit = ctx.hub.commit_of(TINY)
    r = ctx.run("hf-fetch", "-o", out, TINY, REGULAR, LFS)
    expect_exit(r, 0)
    for name in (REGULAR, LFS):
        meta = os.path.join(out, ".cache", "huggingface", "download", name + ".metadata")
        lines = open(meta).read().split("\n")
        assert len(lines) == 4 and lines[0] == commit and lines[3] == "", lines
        stamp = float(lines[2])
        assert repr(stamp) == lines[2], f"not Python's text of a float: {lines[2]!r}"
        mtime = os.stat(os.path.join(out, name)).st_mtime
        assert stamp >= mtime, f"stamped {stamp} before the file was in place ({mtime})"
    ctx.hub.clear_log()
    for name in (REGULAR, LFS):
        err = standin(ctx, name, "--local-dir", out, "--revision", commit)
        assert "reused %s (fresh metadata)" % name in err, err
    assert ctx.hub.requests() == [], "the other client asked the server again"
    for name in (REGULAR, LFS):
        err = standin(ctx, name, "--local-dir", out)
        assert "reused %s (etag)" % name in err, err
    assert not [e for e in ctx.hub.requests() if e["method"] == "GET"]


def test_local_dir_the_other_metadata_read_by_hf_fetch(ctx):
    # what huggingface_hub leaves in a local folder (its metadata and lock files) is read by
    # hf-fetch: offline it knows the commit, online it fetches nothing again, and waits for no
    # lock
    out = ctx.path("out")
    commit = ctx.hub.commit_of(TINY)
    for name in (REGULAR, LFS):
        standin(ctx, name, "--local-dir", out)
    assert os.path.exists(os.path.join(out, ".cache/huggingface/download", REGULAR + ".lock"))
    r = ctx.run("hf-fetch", "--offline", "-o", out, TINY, REGULAR, LFS)
    expect_exit(r, 0)
    assert commit in r.err
    ctx.hub.clear_log()
    r = ctx.run("hf-fetch", "-o", out, TINY, REGULAR, LFS, timeout=60)
    expect_exit(r, 0)
    assert "waiting" not in r.err
    files = ctx.hub.files_at(TINY)
    assert content_gets(ctx, files[LFS]["sha256"], REGULAR) == []
    # and the other client finds hf-fetch's rewritten metadata fresh
    ctx.hub.clear_log()
    err = standin(ctx, REGULAR, "--local-dir", out, "--revision", commit)
    assert "fresh metadata" in err, err


def test_local_dir_partial_download_of_the_other_is_resumed(ctx):
    # the same temporary name as huggingface_hub (<short hash of the metadata name>.<etag>
    # .incomplete): hf-fetch resumes what the other client left
    out = ctx.path("out")
    f = ctx.hub.files_at(TINY)[LFS]
    h = base64.urlsafe_b64encode(hashlib.sha1(b"part-00001.bin.metadata").digest()).decode()
    part = os.path.join(out, ".cache", "huggingface", "download", "weights",
                        f"{h}.{f['etag']}.incomplete")
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as fp:
        fp.write(f["content"]()[: 1 << 20])
    r = ctx.run("hf-fetch", "-v", "-o", out, TINY, LFS)
    expect_exit(r, 0, "resuming from byte 1048576")
    assert not os.path.exists(part)


def test_swapped_incomplete_is_not_moved_into_place(ctx):
    # a writer that ignores the lock replaces blobs/<etag>.incomplete while hf-fetch streams
    # into it: what hf-fetch verified is its own file, not the one now at that name, so
    # nothing is moved; it starts over and ends with the right blob
    cache = ctx.path("cache")
    f = ctx.hub.files_at(TINY)[LFS]
    ctx.hub.add_fault({"repo": TINY, "path": LFS, "where": "cdn", "kind": "stall",
                       "after": 1 << 20, "seconds": 2, "times": 1})
    fetch = subprocess.Popen([os.path.join(BIN_DIR, "hf-fetch"), "--cache-dir", cache, TINY,
                              LFS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=ctx.env(), cwd=ctx.tmp)
    incomplete = os.path.join(cache, MODEL_DIR, "blobs", f["etag"] + ".incomplete")
    wait_for(lambda: os.path.exists(incomplete) and os.path.getsize(incomplete) > 0,
             "hf-fetch's download")
    with open(incomplete + ".x", "wb") as fp:
        fp.write(b"\0" * f["size"])
    os.rename(incomplete + ".x", incomplete)
    out, err = fetch.communicate(timeout=90)
    err = err.decode()
    assert fetch.returncode == 0, err
    assert re.search(r"replaced or changed by another writer", err), err
    check_blob(cache, f)
