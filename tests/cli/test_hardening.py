"""Edge faults end to end: a full disk, a read-only target, links planted in a shared
cache, a server that lies about the length or stalls mid-body, redirect loops, redirects to
other schemes and other hosts, and a 100,000-entry listing with bounded memory.

The disk and read-only cases mount a small tmpfs in a private mount namespace
(`unshare -m`, as root), so nothing outside the test sees it; what the run left is listed
from inside the namespace before it goes away. One case runs the tool as PID 1 of a new
PID namespace (`unshare -p -f`) to know the name of its temporary files in advance.
Measurements (peak RSS, times) are printed as "hardening: ..." lines.
"""
import hashlib
import os
import socket
import subprocess
import sys
import time

from support import ALICE, BIN_DIR, Result, expect_exit, peak_rss, under_asan, under_valgrind

TINY = "acme/tiny-model"
BIG = "acme/big-model"
HUGE = "acme/huge-listing"

# The namespace runner: mounts what MOUNT says on $D, runs the command, lists $D into $L
# (from inside: the mount is gone once sh exits) and exits with the command's status.
NS_SCRIPT = r'''
set -e
eval "$MOUNT"
set +e
"$@"
rc=$?
(cd "$D" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\t%s\t%y\n') > "$L" 2>/dev/null
if [ -n "${COPY:-}" ]; then (cd "$D" && cp -a --parents $COPY "$COPY_TO" 2>/dev/null); fi
exit $rc
'''


def files_of(ctx, repo, rev="main"):
    return ctx.hub.files_at(repo, rev)


def note(msg):
    """A line in the test output (the runner shows only ok/FAIL lines otherwise)."""
    sys.stderr.write(f"     hardening: {msg}\n")
    sys.stderr.flush()


def run_ns(ctx, mount, tool, *args, env=None, timeout=180, copy=None):
    """Runs tool with a private mount of `mount` (a shell command mounting on $D, which is
    ctx.path('mnt')). Returns (Result, {path: (size, type)} of what $D held at the end)."""
    d, listing = ctx.path("mnt"), ctx.path("mnt.list")
    os.makedirs(d, exist_ok=True)
    e = dict(env or ctx.env())
    e.update(MOUNT=mount, D=d, L=listing)
    if copy:
        os.makedirs(ctx.path("copied"), exist_ok=True)
        e.update(COPY=copy, COPY_TO=ctx.path("copied"))
    argv = ["unshare", "-m", "sh", "-c", NS_SCRIPT, "sh", os.path.join(BIN_DIR, tool), *args]
    p = subprocess.run(argv, capture_output=True, env=e, timeout=timeout, cwd=ctx.tmp)
    r = Result(argv[6:], p.returncode, p.stdout.decode("utf-8", "replace"),
               p.stderr.decode("utf-8", "replace"))
    ctx.runs.append(r)
    assert "unshare:" not in r.err and "mount:" not in r.err, \
        f"needs a private mount namespace (unshare -m, mount -t tmpfs; run as root): {r.err}"
    left = {}
    if os.path.exists(listing):
        for line in open(listing, encoding="utf-8", errors="replace").read().splitlines():
            path, size, kind = line.rsplit("\t", 2)
            left[path] = (int(size), kind)
    assert os.listdir(d) == [], "the mount leaked out of its namespace"
    return r, left


TMPFS_2M = 'mount -t tmpfs -o size=2m,mode=0755 tmpfs "$D"'
RO_TMPFS = 'mount -t tmpfs -o ro,size=1m tmpfs "$D"'
RO_BIND = ('mount -t tmpfs -o size=1m tmpfs "$D" && mkdir "$D/x" && echo keep > "$D/x/old" && '
           'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D"')


def final_files(left, root=""):
    """Files of the listing outside the download cache (what a user sees)."""
    return {p[len(root):]: v for p, v in left.items()
            if p.startswith(root) and "/.cache/" not in "/" + p[len(root):]
            and not p[len(root):].startswith(".cache/")}


# --- a full disk ---------------------------------------------------------------------------

def test_disk_full_local_dir(ctx):
    r, left = run_ns(ctx, TMPFS_2M, "hf-fetch", "-o", ctx.path("mnt", "out"),
                     "-m", ctx.path("mnt", "m.json"), BIG, copy="out")
    expect_exit(r, 7, "No space left on device")
    shown = final_files(left, "out/")
    assert "big.bin" not in shown, left
    want = files_of(ctx, BIG)
    for path, (size, kind) in shown.items():   # what made it is whole and verified
        assert kind == "f" and size == want[path]["size"], (path, left)
        data = open(ctx.path("copied", "out", path), "rb").read()
        assert hashlib.sha256(data).hexdigest() == want[path]["sha256"], path
    assert "m.json" not in left, "no manifest for a failed fetch"
    note(f"disk full (2 MiB tmpfs): exit 7, left {sorted(left)}")


def test_disk_full_cache(ctx):
    r, left = run_ns(ctx, TMPFS_2M, "hf-fetch", "--cache-dir", ctx.path("mnt", "cache"), BIG)
    expect_exit(r, 7, "No space left on device")
    big = files_of(ctx, BIG)["big.bin"]
    repo = "cache/models--acme--big-model/"
    assert repo + "blobs/" + big["sha256"] not in left, left
    assert not [p for p in left if "/snapshots/" in p and p.endswith("big.bin")], left
    # lock files stay, as huggingface_hub leaves them; nothing is held in them (flock)
    assert not [p for p in left if p.endswith(".lock") and left[p][0] != 0], left


def test_disk_full_bundle(ctx):
    # the archive fills the disk while big.bin streams into it: the message names the entry
    # and the cause, and no archive (nor its temporary file) is left
    r, left = run_ns(ctx, TMPFS_2M, "hf-bundle", "-o", ctx.path("mnt", "b.tar"), "--repo", BIG)
    expect_exit(r, 7, "big.bin", "No space left on device")
    assert "b.tar" not in left and not [p for p in left if ".tmp-" in p], left
    r, left = run_ns(ctx, TMPFS_2M, "hf-bundle", "-o", ctx.path("mnt", "b.tar.zst"), "--repo",
                     BIG)
    expect_exit(r, 7, "No space left on device")
    assert left == {}, left


# --- a read-only target --------------------------------------------------------------------

def test_read_only_target(ctx):
    for mount in (RO_TMPFS, RO_BIND):
        r, left = run_ns(ctx, mount, "hf-fetch", "-o", ctx.path("mnt", "out"), TINY,
                         "config.json")
        expect_exit(r, 7, "Read-only file system")
        r, _ = run_ns(ctx, mount, "hf-fetch", "--cache-dir", ctx.path("mnt", "cache"), TINY,
                      "config.json")
        expect_exit(r, 7, "Read-only file system")
    # the files fit elsewhere but the manifest cannot be written
    r, _ = run_ns(ctx, RO_TMPFS, "hf-fetch", "-o", ctx.path("out"), "-m",
                  ctx.path("mnt", "m.json"), TINY, "config.json")
    expect_exit(r, 7, "m.json")
    r, _ = run_ns(ctx, RO_BIND, "hf-bundle", "-o", ctx.path("mnt", "x", "b.tar"), "--repo",
                  TINY, "-i", "config.json")
    expect_exit(r, 7)
    r, left = run_ns(ctx, RO_BIND, "hf-list", TINY)   # writes only to stdout: fine
    expect_exit(r, 0)
    assert left == {"x/old": (5, "f")}, left


# --- a shared cache with links planted in it ------------------------------------------------

def test_planted_link_at_incomplete_is_not_followed(ctx):
    # A cache shared by several users (group-writable, on NFS or Lustre): one of them leaves
    # blobs/<etag>.incomplete as a link to a file of another's. The other's fetch must not
    # write (nor truncate) through it.
    cache = ctx.path("cache")
    cfg = files_of(ctx, TINY)["config.json"]
    blobs = os.path.join(cache, "models--acme--tiny-model", "blobs")
    os.makedirs(blobs)
    victim = ctx.path("victim.txt")
    precious = b"precious\n" * 500
    with open(victim, "wb") as f:
        f.write(precious)
    os.symlink(victim, os.path.join(blobs, cfg["etag"] + ".incomplete"))
    r = ctx.run("hf-fetch", "--cache-dir", cache, TINY, "config.json")
    assert open(victim, "rb").read() == precious, "the fetch wrote through a planted link"
    assert r.code in (0, 7), r
    if r.code == 0:
        blob = os.path.join(blobs, cfg["etag"])
        assert not os.path.islink(blob), f"the blob is a link to {os.readlink(blob)}"
        assert open(blob, "rb").read() == cfg["content"]()


def test_planted_link_at_atomic_temp_is_not_followed(ctx):
    # Small files (refs/<revision> in the cache, the manifest, the local metadata) are written
    # to PATH.tmp-PID and renamed. In a new PID namespace the tool is PID 1, so the name is
    # known: a link left there must not be written through.
    cache = ctx.path("cache")
    refs = os.path.join(cache, "models--acme--tiny-model", "refs")
    os.makedirs(refs)
    victim = ctx.path("victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, os.path.join(refs, "main.tmp-1"))
    os.symlink(victim, ctx.path("m.json.tmp-1"))
    argv = ["unshare", "-p", "-f", os.path.join(BIN_DIR, "hf-fetch"), "--cache-dir", cache,
            "-m", ctx.path("m.json"), TINY, "config.json"]
    p = subprocess.run(argv, capture_output=True, env=ctx.env(), cwd=ctx.tmp, timeout=120)
    r = Result(argv, p.returncode, p.stdout.decode(), p.stderr.decode())
    ctx.runs.append(r)
    assert "unshare:" not in r.err, f"needs a PID namespace (unshare -p, as root): {r.err}"
    assert open(victim).read() == "precious\n", "a write went through a planted link"
    assert r.code in (0, 7), r
    if r.code == 0:
        assert not os.path.islink(ctx.path("m.json"))
        assert not os.path.islink(os.path.join(refs, "main"))
        assert open(os.path.join(refs, "main")).read() == ctx.hub.commit_of(TINY)


# --- links planted anywhere below a target root --------------------------------------------
#
# Every write below a --local-dir or a cache goes through one module (src/beneath.c) that
# resolves each path component by component from the root, never through a link. A link to a
# folder outside, planted at any folder position, is refused with exit 5 naming it; a link at
# a name the layout owns (a file, a snapshot entry, a ref, the metadata) is replaced, never
# written through. Nothing lands outside.

MODEL_DIR = "models--acme--tiny-model"
PLANT_FILES = ("tokenizer/tokenizer.json", "config.json", "weights/part-00001.bin")


def outside_files(ctx):
    """What the run left in the folder the planted links point to (must stay empty)."""
    found = []
    for dirpath, _, names in os.walk(ctx.path("elsewhere")):
        found += [os.path.relpath(os.path.join(dirpath, n), ctx.path("elsewhere")) for n in names]
    return found


def plant_dir_link(ctx, at):
    os.makedirs(ctx.path("elsewhere"), exist_ok=True)
    os.makedirs(os.path.dirname(at), exist_ok=True)
    os.symlink(ctx.path("elsewhere"), at)


def expect_refused(ctx, r, link):
    expect_exit(r, 5, link, "link")
    assert outside_files(ctx) == [], f"written through {link}: {outside_files(ctx)}"


def test_planted_folder_links_local_dir(ctx):
    positions = ["tokenizer", ".cache", ".cache/huggingface", ".cache/huggingface/download",
                 ".cache/huggingface/download/tokenizer", ".cache/huggingface/download/weights",
                 "weights"]
    for i, pos in enumerate(positions):
        out = ctx.path(f"out{i}")
        os.makedirs(out)
        plant_dir_link(ctx, os.path.join(out, pos))
        r = ctx.run("hf-fetch", "-o", out, TINY, *PLANT_FILES)
        expect_refused(ctx, r, os.path.join(out, pos))
    note(f"local dir: a folder link at each of {len(positions)} positions refused (exit 5)")


def test_planted_folder_links_cache(ctx):
    commit = ctx.hub.commit_of(TINY)
    positions = [MODEL_DIR, f"{MODEL_DIR}/blobs", f"{MODEL_DIR}/snapshots",
                 f"{MODEL_DIR}/snapshots/{commit}", f"{MODEL_DIR}/snapshots/{commit}/tokenizer",
                 f"{MODEL_DIR}/snapshots/{commit}/weights", f"{MODEL_DIR}/refs", ".locks",
                 f".locks/{MODEL_DIR}"]
    n = 0
    for nosym in (None, "1"):
        for pos in positions:
            n += 1
            cache = ctx.path(f"cache{n}")
            plant_dir_link(ctx, os.path.join(cache, pos))
            r = ctx.run("hf-fetch", "--cache-dir", cache, TINY, *PLANT_FILES,
                        env=ctx.env(HF_HUB_DISABLE_SYMLINKS=nosym))
            expect_refused(ctx, r, os.path.join(cache, pos))
    # offline, a planted refs/ folder cannot steer which commit is read
    cache = ctx.path("cache-offline")
    plant_dir_link(ctx, os.path.join(cache, MODEL_DIR, "refs"))
    with open(ctx.path("elsewhere", "main"), "w") as f:
        f.write(commit)
    r = ctx.run("hf-fetch", "--offline", "--cache-dir", cache, TINY, "config.json")
    expect_exit(r, 5, os.path.join(cache, MODEL_DIR, "refs"))
    note(f"cache: a folder link at each of {len(positions)} positions, with and without "
         "symlinks, refused (exit 5)")


def test_planted_file_links_are_replaced(ctx):
    # names the layout owns: a link found there is replaced by the real thing, never written
    # through (the victim keeps its bytes)
    commit = ctx.hub.commit_of(TINY)
    files = files_of(ctx, TINY)
    victim = ctx.path("victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    out = ctx.path("out")
    os.makedirs(os.path.join(out, ".cache", "huggingface", "download"))
    for rel in ("config.json", ".cache/huggingface/hf-manifest.json",
                ".cache/huggingface/.gitignore",
                ".cache/huggingface/download/config.json.metadata"):
        os.symlink(victim, os.path.join(out, rel))
    # and the lock and temporary names (the lock file is one huggingface_hub shares)
    os.symlink(victim, os.path.join(out, ".cache/huggingface/download/config.json.lock"))
    r = ctx.run("hf-fetch", "-o", out, TINY, "config.json")
    expect_exit(r, 0)
    assert open(victim).read() == "precious\n"
    assert not os.path.islink(os.path.join(out, ".cache/huggingface/download/config.json.lock"))
    for rel in ("config.json", ".cache/huggingface/hf-manifest.json",
                ".cache/huggingface/download/config.json.metadata"):
        assert not os.path.islink(os.path.join(out, rel)), rel
    assert open(os.path.join(out, "config.json"), "rb").read() == files["config.json"]["content"]()
    for nosym in (None, "1"):
        cache = ctx.path("cache" + (nosym or ""))
        snap = os.path.join(cache, MODEL_DIR, "snapshots", commit)
        os.makedirs(snap)
        os.makedirs(os.path.join(cache, MODEL_DIR, "refs"))
        os.symlink(victim, os.path.join(snap, "config.json"))
        os.symlink(victim, os.path.join(cache, MODEL_DIR, "refs", "main"))
        os.makedirs(os.path.join(cache, ".locks", MODEL_DIR))
        os.symlink(victim, os.path.join(cache, ".locks", MODEL_DIR,
                                        files["config.json"]["etag"] + ".lock"))
        r = ctx.run("hf-fetch", "--cache-dir", cache, TINY, "config.json",
                    env=ctx.env(HF_HUB_DISABLE_SYMLINKS=nosym))
        expect_exit(r, 0)
        assert open(victim).read() == "precious\n"
        entry = os.path.join(snap, "config.json")
        if nosym:
            assert not os.path.islink(entry)
        else:
            assert os.readlink(entry) == "../../blobs/" + files["config.json"]["etag"]
        assert open(entry, "rb").read() == files["config.json"]["content"]()
        ref = os.path.join(cache, MODEL_DIR, "refs", "main")
        assert not os.path.islink(ref) and open(ref).read() == commit


def test_planted_links_bundle_output(ctx):
    # hf-bundle's -o: its folder is the user's choice, but its temporary file and the rename
    # never go through a link found there
    victim = ctx.path("victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, ctx.path("b.tar"))
    r = ctx.run("hf-bundle", "-o", ctx.path("b.tar"), "--repo", TINY, "-i", "config.json")
    expect_exit(r, 0)
    assert open(victim).read() == "precious\n"
    assert not os.path.islink(ctx.path("b.tar"))
    assert [n for n in os.listdir(ctx.tmp) if ".tmp-" in n] == []


# --- repository files at the paths of the tools' own metadata -------------------------------

META = "acme/metadata-paths"  # .cache/huggingface/{hf-manifest.json,download/*.metadata,.gitignore}


def test_metadata_paths_refused_in_local_dir(ctx):
    out = ctx.path("out")
    r = ctx.run("hf-fetch", "-o", out, META)
    expect_exit(r, 5, ".cache/huggingface/")
    assert not os.path.exists(out), "something was written before the refusal"
    for path in (".cache/huggingface/hf-manifest.json", ".cache/huggingface/.gitignore"):
        r = ctx.run("hf-fetch", "-o", out, META, path)
        expect_exit(r, 5, path)
        r = ctx.run("hf-fetch", "-n", "-o", out, META, path)
        expect_exit(r, 5, path)
    # the rest of the repository is fine, and the manifest and metadata are the tool's own
    r = ctx.run("hf-fetch", "-o", out, "-x", ".cache/*", META)
    expect_exit(r, 0)
    commit = ctx.hub.commit_of(META)
    import json
    m = json.load(open(os.path.join(out, ".cache", "huggingface", "hf-manifest.json")))
    assert m["commit"] == commit and [f["path"] for f in m["files"]] == ["config.json"], m
    meta = open(os.path.join(out, ".cache/huggingface/download/config.json.metadata")).read()
    assert meta.startswith(commit + "\n"), meta
    assert open(os.path.join(out, ".cache/huggingface/.gitignore")).read() == "*\n"


def test_metadata_paths_steer_no_manifest(ctx):
    # in a cache they are files of the snapshot like any other; hf-bundle of that snapshot
    # never takes one of them for its manifest, and the archive's manifest is the tool's
    cache = ctx.path("cache")
    commit = ctx.hub.commit_of(META)
    r = ctx.run("hf-fetch", "--cache-dir", cache, "-m", ctx.path("m.json"), META)
    expect_exit(r, 0)
    snap = os.path.join(cache, "models--acme--metadata-paths", "snapshots", commit)
    assert os.path.islink(os.path.join(snap, ".cache/huggingface/hf-manifest.json"))
    r = ctx.run("hf-bundle", "-o", ctx.path("b.tar"), snap)
    expect_exit(r, 2, "cache snapshot")
    r = ctx.run("hf-bundle", "-m", ctx.path("m.json"), "-o", ctx.path("b.tar"), snap)
    expect_exit(r, 5, ".cache/huggingface/")
    assert not os.path.exists(ctx.path("b.tar"))
    repo = os.path.join(cache, "models--acme--metadata-paths")
    assert open(os.path.join(repo, "refs", "main")).read() == commit
    assert sorted(os.listdir(cache)) == [".locks", "models--acme--metadata-paths"]
    # from the Hub: refused, as for a local folder (unpacked, the archive is one)
    r = ctx.run("hf-bundle", "-o", ctx.path("c.tar"), "--repo", META)
    expect_exit(r, 5, ".cache/huggingface/")
    assert not os.path.exists(ctx.path("c.tar"))
    # a folder holding both places' manifests: which one is the tool's cannot be told
    out = ctx.path("both")
    r = ctx.run("hf-fetch", "-o", out, "-x", ".cache/*", META)
    expect_exit(r, 0)
    with open(os.path.join(out, "hf-manifest.json"), "w") as f:
        f.write(open(os.path.join(out, ".cache/huggingface/hf-manifest.json")).read())
    r = ctx.run("hf-bundle", "-o", ctx.path("d.tar"), out)
    expect_exit(r, 2, "found both")


# --- a server that lies about the length, or stalls ---------------------------------------

def test_content_length_larger_than_body(ctx):
    # a file sent whole with a Content-Length that promises more, then the connection
    # closes: the bytes are all there and verified (the retry finds nothing left to get)
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "overlong", "extra": 4096})
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                       "kind": "overlong", "extra": 1})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, TINY, "config.json", "model.safetensors")
    expect_exit(r, 0)
    for p in ("config.json", "model.safetensors"):
        assert open(os.path.join(out, p), "rb").read() == files_of(ctx, TINY)[p]["content"](), p
    # 50 bytes of every answer, then the connection closes (a Range answer too): each try
    # gets further, so it goes on from the byte reached until the file is whole (a server
    # that sends nothing is refused after the retries: test_hf_fetch.test_short_body)
    ctx.hub.clear_faults()
    ctx.hub.clear_log()
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve", "kind": "short",
                       "after": 50})
    r = ctx.run("hf-fetch", "-o", ctx.path("p"), TINY, "config.json")
    expect_exit(r, 0)
    ranges = [q["headers"].get("Range") for q in ctx.hub.requests() if "resolve-cache" in q["path"]]
    assert ranges == [None, "bytes=50-", "bytes=100-"], ranges
    assert open(ctx.path("p", "config.json"), "rb").read() == \
        files_of(ctx, TINY)["config.json"]["content"]()
    # an API answer cut short once: retried; every time: exit 6 after the retries
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "overlong", "times": 1})
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 0)
    assert "retrying" in r.err, r.err
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "overlong"})
    t = time.monotonic()
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 6)
    assert r.out == "", "nothing listed from a cut answer"
    assert time.monotonic() - t < 60


def test_stall_mid_body_times_out_and_resumes(ctx):
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "stall",
                       "after": 3 << 20, "seconds": 60, "times": 1})
    out = ctx.path("o")
    t = time.monotonic()
    r = ctx.run("hf-fetch", "-o", out, BIG, env=ctx.env(HF_HUB_DOWNLOAD_TIMEOUT="2"))
    took = time.monotonic() - t
    expect_exit(r, 0)
    big = files_of(ctx, BIG)["big.bin"]
    assert hashlib.sha256(open(os.path.join(out, "big.bin"), "rb").read()).hexdigest() == \
        big["sha256"]
    cdn = [q for q in ctx.hub.requests() if q["listener"] == "cdn"]
    ranges = [q["headers"].get("Range") for q in cdn]
    assert len(cdn) == 2 and ranges[0] is None, ranges
    assert ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) >= 3 << 20, ranges
    assert took < 30, f"a 2 s low-speed limit took {took:.1f} s"
    note(f"stall of 60 s mid-body with HF_HUB_DOWNLOAD_TIMEOUT=2: done in {took:.1f} s, "
         f"resumed with {ranges[1]}")


# --- redirects -----------------------------------------------------------------------------

def test_redirect_loop(ctx):
    for mode in ("self", "new"):
        ctx.hub.clear_faults()
        ctx.hub.clear_log()
        ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                           "kind": "redirect_loop", "mode": mode})
        t = time.monotonic()
        r = ctx.run("hf-fetch", "-o", ctx.path(mode), TINY, "config.json")
        took = time.monotonic() - t
        expect_exit(r, 5, "redirect")
        hops = [q for q in ctx.hub.requests() if "config.json" in q["path"]]
        assert len(hops) <= 12, f"{len(hops)} requests for one redirect loop"
        assert took < 20, took
        assert not os.path.exists(ctx.path(mode, "config.json"))
        note(f"redirect loop ({mode}) on a file: exit 5 after {len(hops)} requests, {took:.1f} s")
        ctx.hub.clear_faults()
        ctx.hub.clear_log()
        ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "redirect_loop", "mode": mode,
                           "status": 307})
        t = time.monotonic()
        r = ctx.run("hf-list", TINY)
        expect_exit(r, 5, "redirect")
        assert len(ctx.hub.requests()) <= 12 and time.monotonic() - t < 20, ctx.hub.requests()
        r = ctx.run("hf-bundle", "-o", ctx.path(mode + ".tar"), "--repo", TINY)
        expect_exit(r, 5, "redirect")
        assert not os.path.exists(ctx.path(mode + ".tar"))


class Listener:
    """A TCP port that counts the connections made to it (nothing should ever come)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                return n
            c.close()
            n += 1

    def close(self):
        self.sock.close()


def test_redirect_to_other_schemes_refused(ctx):
    trap = Listener()
    try:
        targets = ["file:///etc/passwd", f"ftp://127.0.0.1:{trap.port}/x",
                   f"gopher://127.0.0.1:{trap.port}/x", f"dict://127.0.0.1:{trap.port}/x",
                   "FILE:///etc/passwd", "data:text/plain,hello",
                   f"telnet://127.0.0.1:{trap.port}"]
        for i, loc in enumerate(targets):
            for where, tool, args in [("resolve", "hf-fetch", ["-o", ctx.path(f"o{i}"), TINY,
                                                               "config.json"]),
                                      ("cdn", "hf-fetch", ["-o", ctx.path(f"c{i}"), TINY,
                                                           "model.safetensors"]),
                                      ("api", "hf-list", [TINY])]:
                ctx.hub.clear_faults()
                ctx.hub.add_fault({"repo": TINY, "where": where, "kind": "redirect_scheme",
                                   "location": loc})
                r = ctx.run(tool, *args, timeout=60)
                expect_exit(r, 5, "non-HTTP")
                assert "root:" not in r.out + r.err
                if tool == "hf-fetch":
                    assert not os.path.exists(ctx.path(f"o{i}", "config.json"))
                    assert not os.path.exists(ctx.path(f"c{i}", "model.safetensors"))
        assert trap.connections() == 0, "a non-HTTP redirect was followed"
    finally:
        trap.close()


def test_redirect_to_other_host_keeps_the_token(ctx):
    env = ctx.env(HF_TOKEN=ALICE)
    port = ctx.hub.port
    other = f"localhost:{port}"   # the same server under another name: another origin
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "redirect_host", "times": 1})
    ctx.hub.add_fault({"repo": TINY, "where": "resolve", "path": "config.json",
                       "kind": "redirect_host", "status": 307})
    ctx.hub.add_fault({"repo": TINY, "where": "cdn", "path": "model.safetensors",
                       "kind": "redirect_host", "host": "127.0.0.1", "port": "cdn"})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, TINY, "config.json", "model.safetensors", env=env)
    expect_exit(r, 0)
    for p in ("config.json", "model.safetensors"):
        assert open(os.path.join(out, p), "rb").read() == files_of(ctx, TINY)[p]["content"](), p
    log = ctx.hub.requests()
    elsewhere = [q for q in log if q["host"] != f"127.0.0.1:{port}"]
    assert {q["host"] for q in elsewhere} >= {other, f"127.0.0.1:{ctx.hub.cdn_port}"}, \
        {q["host"] for q in elsewhere}
    for q in elsewhere:
        assert "authorization" not in {k.lower() for k in q["headers"]}, q
        assert ALICE not in str(q), q
    home = [q for q in log if q["host"] == f"127.0.0.1:{port}"]
    assert home and all(q["headers"].get("Authorization") == f"Bearer {ALICE}" for q in home)
    # a private repository behind such a redirect: the other host gets no token, so no data
    ctx.hub.clear_faults()
    ctx.hub.clear_log()
    ctx.hub.add_fault({"repo": "acme/private-model", "where": "api", "kind": "redirect_host"})
    r = ctx.run("hf-list", "acme/private-model", env=env)
    assert r.code in (3, 4), r   # the other host answered as to an anonymous client
    for q in ctx.hub.requests():
        if q["host"] == other:
            assert "authorization" not in {k.lower() for k in q["headers"]}, q
    for run in ctx.runs:
        assert ALICE not in run.out + run.err


# --- a huge listing ------------------------------------------------------------------------

def test_huge_listing_memory_bounded(ctx):
    _, floor = peak_rss(ctx, "/bin/true")
    r, small = peak_rss(ctx, "hf-list", "acme/many-files")
    expect_exit(r, 0)
    ctx.hub.clear_log()
    t = time.monotonic()
    r, huge = peak_rss(ctx, "hf-list", "-q", HUGE)
    took = time.monotonic() - t
    expect_exit(r, 0)
    rows = r.out.count("\n") - 2
    assert rows == 100000, rows
    pages = [q for q in ctx.hub.requests() if "/tree/" in q["path"]]
    assert len(pages) == 101, len(pages)
    r, huge_json = peak_rss(ctx, "hf-list", "-q", "-f", "json", HUGE)
    expect_exit(r, 0)
    assert len(r.json()["files"]) == 100000
    r, dry = peak_rss(ctx, "hf-fetch", "-q", "-n", "-o", ctx.path("never"), HUGE)
    expect_exit(r, 0)
    assert not os.path.exists(ctx.path("never"))
    per_entry = (huge - small) * 1024 / (100000 - 2500)
    mib = lambda k: f"{k / 1024:.1f} MiB"   # noqa: E731
    note(f"peak RSS (floor {mib(floor)}): hf-list many-files (2,500 files) {mib(small)}; "
         f"huge-listing (100,000 files, 101 pages, {took:.1f} s): hf-list tsv {mib(huge)}, "
         f"json {mib(huge_json)}, hf-fetch -n {mib(dry)}; {per_entry:.0f} bytes per file (tsv)")
    if under_valgrind() or under_asan():
        return   # what getrusage sees is valgrind's, or ASan's shadow and quarantine
    # hf-list keeps the listing packed and writes JSON as it goes (issue 13): about 22 MiB
    # in either format (59 and 126 MiB before); hf-fetch -n about 51 MiB
    assert huge <= 32 * 1024, f"hf-list peaked at {mib(huge)} for 100,000 files"
    assert huge_json <= 32 * 1024, f"hf-list -f json peaked at {mib(huge_json)}"
    assert dry < 96 * 1024, f"hf-fetch -n peaked at {mib(dry)}"
    assert per_entry < 1024, f"{per_entry:.0f} bytes per listed file"
