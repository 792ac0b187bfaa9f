"""Trusted presence and the sync policy of hf-fetch: a file it verified and published is
trusted later without reading it (a cache blob at its content-addressed name; a local file
whose metadata matches and whose size and mtime did not change), --verify hashes it again,
--lock compares the manifest's hashes with what is trusted, and a blob gets its name only
once its bytes are synced. Bytes read and the order of fsync and rename are counted with
strace, so each test fails when a present file is read, or published before it is durable."""
import json
import os
import re
import subprocess

from support import BIN_DIR, Result, expect_exit

BIG = "acme/big-model"  # big.bin: LFS, 24 MiB; config.json: regular


def files_of(ctx, repo=BIG):
    return ctx.hub.files_at(repo, "main")


def blob(cache, etag):
    return os.path.join(cache, "models--acme--big-model", "blobs", etag)


def file_requests(ctx):
    return [q for q in ctx.hub.requests() if "/resolve" in q["path"] or q["listener"] == "cdn"]


def traced(ctx, *args, trace="read,pread64,readv,preadv", env=None):
    """Runs hf-fetch under strace -f; returns (result, the trace's lines)."""
    log = ctx.path(f"strace-{len(ctx.runs)}.log")
    argv = ["strace", "-f", "-qq", "-o", log, "-e", f"trace={trace}",
            os.path.join(BIN_DIR, "hf-fetch"), *args]
    env = dict(env or ctx.env())
    # LeakSanitizer cannot run under ptrace (the untraced runs still check for leaks)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    p = subprocess.run(argv, capture_output=True, env=env, timeout=120, cwd=ctx.tmp)
    r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))
    ctx.runs.append(r)
    with open(log) as f:
        return r, f.read().splitlines()


def bytes_read(lines):
    total = 0
    for line in lines:
        m = re.search(r"\b(?:read|pread64|readv|preadv)\(.*\)\s+=\s+(\d+)", line)
        if m:
            total += int(m.group(1))
    return total


def flip_byte(path, offset=1000):
    """Changes one byte in place: same size, same inode; the mtime is kept."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_present_snapshot_is_not_read_again(ctx):
    size = files_of(ctx)["big.bin"]["size"]
    for layout in (["--cache-dir", ctx.path("cache")], ["-o", ctx.path("out")]):
        expect_exit(ctx.run("hf-fetch", *layout, BIG), 0)
        ctx.hub.clear_log()
        r, lines = traced(ctx, *layout, BIG)
        expect_exit(r, 0)
        assert file_requests(ctx) == [], layout
        # config.json (regular, a few bytes) is hashed for its sha256; big.bin is not read
        assert bytes_read(lines) < size // 4, (layout, bytes_read(lines))
        r, lines = traced(ctx, *layout, "--offline", BIG)
        expect_exit(r, 0)
        assert bytes_read(lines) < size // 4, (layout, "offline", bytes_read(lines))
        # --verify (or HF_FETCH_VERIFY=1) hashes everything again
        r, lines = traced(ctx, *layout, "--verify", BIG)
        expect_exit(r, 0)
        assert bytes_read(lines) >= size, (layout, "--verify", bytes_read(lines))
        r, lines = traced(ctx, *layout, "--offline", BIG, env=ctx.env(HF_FETCH_VERIFY="1"))
        expect_exit(r, 0, "verified again")
        assert bytes_read(lines) >= size, (layout, "HF_FETCH_VERIFY", bytes_read(lines))
        assert file_requests(ctx) == [], layout


def test_same_size_corruption_needs_verify(ctx):
    """The documented trade-off, as huggingface_hub's: a blob changed in place behind the
    tools' back keeps its name and size, so only --verify finds it."""
    cache = ctx.path("cache")
    big = files_of(ctx)["big.bin"]
    expect_exit(ctx.run("hf-fetch", "--cache-dir", cache, BIG), 0)
    flip_byte(blob(cache, big["sha256"]))
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "--cache-dir", cache, BIG), 0)
    assert file_requests(ctx) == [], "trusted: not detected without --verify"
    expect_exit(ctx.run("hf-fetch", "--cache-dir", cache, "--offline", "--verify", BIG), 3,
                "does not verify")
    expect_exit(ctx.run("hf-fetch", "--cache-dir", cache, "--verify", BIG), 0)
    assert [q for q in ctx.hub.requests() if q["listener"] == "cdn"], "fetched again"
    with open(blob(cache, big["sha256"]), "rb") as f:
        assert f.read() == big["content"](), "the blob is right again"


def test_changed_local_file_is_refetched(ctx):
    out = ctx.path("out")
    big = files_of(ctx)["big.bin"]
    path = os.path.join(out, "big.bin")
    expect_exit(ctx.run("hf-fetch", "-o", out, BIG), 0)
    # same size, other bytes, a newer mtime: the metadata no longer vouches for it
    flip_byte(path)
    st = os.stat(path)
    os.utime(path, (st.st_atime + 5, st.st_mtime + 5))
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "-o", out, BIG), 0)
    assert [q for q in ctx.hub.requests() if q["listener"] == "cdn"], "mtime: fetched again"
    with open(path, "rb") as f:
        assert f.read() == big["content"]()
    # another size, the mtime put back: fetched again too
    st = os.stat(path)
    with open(path, "ab") as f:
        f.write(b"x")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "-o", out, BIG), 0)
    assert [q for q in ctx.hub.requests() if q["listener"] == "cdn"], "size: fetched again"
    with open(path, "rb") as f:
        assert f.read() == big["content"]()
    # untouched since: trusted, nothing asked
    ctx.hub.clear_log()
    expect_exit(ctx.run("hf-fetch", "-o", out, BIG), 0)
    assert file_requests(ctx) == []


def test_lock_disagreeing_with_trusted_files_fails(ctx):
    for name, layout in (("cache", ["--cache-dir", ctx.path("cache")]),
                         ("dir", ["-o", ctx.path("out")])):
        manifest = ctx.path(f"{name}.json")
        expect_exit(ctx.run("hf-fetch", *layout, "-m", manifest, BIG), 0)
        m = json.load(open(manifest))
        for f in m["files"]:
            bad = json.loads(json.dumps(m))
            g = next(x for x in bad["files"] if x["path"] == f["path"])
            g["sha256"] = "0" * 64
            with open(ctx.path("bad.json"), "w") as fh:
                json.dump(bad, fh)
            r = ctx.run("hf-fetch", *layout, "--lock", ctx.path("bad.json"))
            expect_exit(r, 5, f["path"])
            if f["lfs"]:  # offline, the blob name or the metadata's etag tells at once
                r = ctx.run("hf-fetch", *layout, "--offline", "--lock", ctx.path("bad.json"))
                expect_exit(r, 5, f["path"], "0" * 64)
        # the trusted files are still there and right
        expect_exit(ctx.run("hf-fetch", *layout, "--lock", manifest, "--offline"), 0)


def test_blob_synced_before_its_name(ctx):
    """In the cache a blob's bytes are fsynced before the rename gives it its name; --sync
    never skips that; a local folder is not synced unless --sync always (one syncfs)."""
    big = files_of(ctx)["big.bin"]
    trace = "fsync,fdatasync,syncfs,rename,renameat,renameat2"
    r, lines = traced(ctx, "--cache-dir", ctx.path("cache"), BIG, trace=trace)
    expect_exit(r, 0)
    ren = [i for i, l in enumerate(lines)
           if "rename" in l and big["sha256"] + ".incomplete" in l]
    assert len(ren) == 1, lines
    pid = lines[ren[0]].split()[0]
    # the blob's own fsync is that thread's last sync call before its rename (small files'
    # bytes are made durable by a shared syncfs instead)
    before = [l for l in lines[:ren[0]] if l.split()[0] == pid and "sync" in l.split("(")[0]]
    assert before and re.search(r"\bf(data)?sync\(", before[-1]), \
        ("no fsync right before the blob's rename", lines)
    assert any("syncfs(" in l for l in lines[ren[0]:]), "the names made durable at the end"
    r, lines = traced(ctx, "--cache-dir", ctx.path("cache2"), "--sync", "never", BIG,
                      trace=trace)
    expect_exit(r, 0)
    assert not [l for l in lines if "sync" in l.split("(")[0]], lines
    r, lines = traced(ctx, "-o", ctx.path("out"), BIG, trace=trace)
    expect_exit(r, 0)
    assert not [l for l in lines if "sync" in l.split("(")[0]], lines
    r, lines = traced(ctx, "-o", ctx.path("out2"), "--sync", "always", BIG, trace=trace)
    expect_exit(r, 0)
    assert len([l for l in lines if "syncfs(" in l]) == 1, lines
    expect_exit(ctx.run("hf-fetch", "--sync", "sometimes", BIG), 2, "--sync")


def test_small_blobs_share_one_syncfs(ctx):
    """Small files in the cache are made durable together: one syncfs before their renames
    give them their names, no fsync each (a journal commit each); a file of 1 MiB or more is
    fsynced on its own."""
    repo = "acme/tiny-model"
    files = ctx.hub.files_at(repo, "main")
    small = [f for f in files.values() if f["size"] < 1 << 20]
    large = [f for f in files.values() if f["size"] >= 1 << 20]
    assert len(small) >= 3, files.keys()
    trace = "fsync,fdatasync,syncfs,rename,renameat,renameat2"
    r, lines = traced(ctx, "--cache-dir", ctx.path("cache"), repo, trace=trace)
    expect_exit(r, 0)
    etags = {f["etag"] for f in small}
    renames = [i for i, l in enumerate(lines) if "rename" in l and ".incomplete" in l
               and any(t + ".incomplete" in l for t in etags)]
    assert len(renames) == len(etags), (etags, lines)
    first_syncfs = next(i for i, l in enumerate(lines) if "syncfs(" in l)
    assert first_syncfs < min(renames), ("a small blob named before its bytes were synced", lines)
    fsyncs = [l for l in lines if re.search(r"\bf(data)?sync\(", l)]
    assert len(fsyncs) == len(large), (large, fsyncs)
    syncfs = [l for l in lines if "syncfs(" in l]
    assert len(syncfs) <= 3, syncfs  # the batch (or two), and the names at the end
