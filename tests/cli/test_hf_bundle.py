"""hf-bundle end to end: SOURCE folders and the fixture Hub into archives, --verify, --list."""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import zipfile

from support import ALICE, BIN_DIR, expect_exit

TINY = "acme/tiny-model"
DATASET = "acme/tiny-dataset"
FORMATS = {"tar": "a.tar", "tgz": "a.tgz", "tar.zst": "a.tar.zst", "zip": "a.zip"}
EPOCH = "1700000000"


# --- helpers -------------------------------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).hexdigest()


def git_blob(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def hub_files(ctx, repo, rev="main", repo_type="model"):
    """The fixture's files at rev, with their content as bytes."""
    out = {}
    for p, f in ctx.hub.files_at(repo, rev, repo_type=repo_type).items():
        g = dict(f)
        g["content"] = f["content"]() if callable(f["content"]) else f["content"]
        out[p] = g
    return out


def manifest_for(ctx, repo, files, rev="main", repo_type="model", commit=None, extra=None):
    """A manifest as hf-fetch writes it, for `files` {path: {"content", "lfs", ...}}."""
    commit = commit or ctx.hub.commit_of(repo, rev, repo_type=repo_type)
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[repo_type]
    doc = {
        "repo_id": repo, "repo_type": repo_type, "revision": rev, "commit": commit,
        "endpoint": ctx.hub.endpoint,
        "files": [{
            "path": p, "size": len(f["content"]), "lfs": f.get("lfs", False),
            "sha256": sha256(f["content"]),
            "git_oid": f.get("git_oid") or git_blob(f["content"]),
            "url": f"{ctx.hub.endpoint}/{prefix}{repo}/resolve/{commit}/{p}",
        } for p, f in sorted(files.items(), key=lambda kv: kv[0].encode())],
        "tool": {"name": "hf-fetch", "version": "0.1.0"},
        "fetched_at": "2026-01-02T03:04:05Z",
    }
    doc.update(extra or {})
    return doc


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def local_source(ctx, repo=TINY, rev="main", repo_type="model", where="top", files=None,
                 extra=None, name="src"):
    """A --local-dir folder of the repository at rev, with its manifest (at the top, in
    .cache/huggingface/ or beside the folder). Returns (folder, manifest path, files)."""
    files = files if files is not None else hub_files(ctx, repo, rev, repo_type)
    src = ctx.path(name)
    os.makedirs(src)
    for p, f in files.items():
        write(os.path.join(src, p), f["content"])
    doc = manifest_for(ctx, repo, files, rev, repo_type, extra=extra)
    mpath = {"top": os.path.join(src, "hf-manifest.json"),
             "cache": os.path.join(src, ".cache", "huggingface", "hf-manifest.json"),
             "beside": ctx.path(name + ".manifest.json")}[where]
    write(mpath, json.dumps(doc, indent=2) + "\n")
    # what huggingface_hub leaves in a local dir: never part of the snapshot
    write(os.path.join(src, ".cache", "huggingface", "download", "config.json.metadata"), "x\n")
    return src, mpath, files


def cache_source(ctx, repo=TINY, rev="main"):
    """The Hub cache layout: snapshots/COMMIT/PATH symlinks into ../../blobs/."""
    files = hub_files(ctx, repo, rev)
    commit = ctx.hub.commit_of(repo, rev)
    root = ctx.path("hub", "models--" + repo.replace("/", "--"))
    snap = os.path.join(root, "snapshots", commit)
    for p, f in files.items():
        blob = os.path.join(root, "blobs", f["sha256"] if f["lfs"] else f["git_oid"])
        write(blob, f["content"])
        link = os.path.join(snap, p)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(blob, os.path.dirname(link)), link)
    mpath = ctx.path("cache.manifest.json")
    write(mpath, json.dumps(manifest_for(ctx, repo, files, rev)))
    return snap, mpath, files


def tree_of(folder):
    """{relative path: sha256} of the files below folder."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            full = os.path.join(dirpath, n)
            with open(full, "rb") as f:
                out[os.path.relpath(full, folder)] = sha256(f.read())
    return out


def extract(ctx, tool, archive, fmt):
    dest = ctx.path("x-" + tool + "-" + fmt.replace(".", ""))
    os.makedirs(dest)
    if tool == "bsdtar":
        argv = ["bsdtar", "-xf", archive, "-C", dest]
    elif tool == "gnutar":
        flag = {"tar": [], "tgz": ["-z"], "tar.zst": ["--zstd"]}[fmt]
        argv = ["tar", *flag, "-xf", archive, "-C", dest]
    else:
        argv = ["unzip", "-q", archive, "-d", dest]
    p = subprocess.run(argv, capture_output=True, env={"PATH": os.environ["PATH"],
                                                        "LC_ALL": "C.UTF-8"})
    assert p.returncode == 0, (argv, p.stderr)
    return dest


def expected_tree(files, prefix, with_crate=False):
    want = {os.path.join(prefix, p): sha256(f["content"]) for p, f in files.items()}
    want[os.path.join(prefix, "hf-manifest.json")] = None
    if with_crate:
        want[os.path.join(prefix, "ro-crate-metadata.json")] = None
    return want


def check_tree(got, want):
    assert set(got) == set(want), (sorted(set(got) ^ set(want)))
    for p, h in want.items():
        if h is not None:
            assert got[p] == h, p


def members(archive):
    """[(name, is_dir, size, mode, mtime, uid, gid, uname, gname)] read with Python."""
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            return [(i.filename.rstrip("/"), i.is_dir(), i.file_size, (i.external_attr >> 16) & 0o7777,
                     i.date_time, None, None, None, None) for i in z.infolist()]
    data = open(archive, "rb").read()
    if archive.endswith(".tar.zst"):
        data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return [(m.name, m.isdir(), m.size, m.mode, m.mtime, m.uid, m.gid, m.uname, m.gname)
                for m in t.getmembers()]


def no_leftovers(folder, keep=()):
    left = [n for n in os.listdir(folder) if ".tmp-" in n or ".spool-" in n or ".hf-spool" in n or n in keep]
    assert not left, left


def bundle_source(ctx, src, out, *args, env=None):
    return ctx.run("hf-bundle", "-o", out, *args, src, env=env)


# --- round trips ---------------------------------------------------------------------------

def test_source_round_trip_every_format(ctx):
    src, _, files = local_source(ctx)
    commit = ctx.hub.commit_of(TINY, "main")
    prefix = "tiny-model-" + commit[:12]
    for fmt, name in FORMATS.items():
        out = ctx.path(name)
        r = bundle_source(ctx, src, out)
        expect_exit(r, 0)
        assert f"wrote {out}" in r.err and commit in r.err, r.err
        want = expected_tree(files, prefix)
        tools = ["unzip", "bsdtar"] if fmt == "zip" else ["bsdtar", "gnutar"]
        for tool in tools:
            check_tree(tree_of(extract(ctx, tool, out, fmt)), want)
        # the manifest inside is the one given, byte for byte
        got = subprocess.run(["bsdtar", "-xOf", out, f"{prefix}/hf-manifest.json"],
                             capture_output=True, check=True).stdout
        assert got == open(os.path.join(src, "hf-manifest.json"), "rb").read()
        r = ctx.run("hf-bundle", "--verify", out)
        expect_exit(r, 0)
        assert f"{len(files)} files of {TINY}" in r.err, r.err
    no_leftovers(ctx.tmp)


def test_direct_round_trip_every_format(ctx):
    files = hub_files(ctx, TINY)
    commit = ctx.hub.commit_of(TINY, "main")
    for fmt, name in FORMATS.items():
        out = ctx.path(name)
        r = ctx.run("hf-bundle", "-o", out, "--repo", TINY)
        expect_exit(r, 0)
        assert f"resolved to commit {commit}" in r.err
        want = expected_tree(files, "tiny-model-" + commit[:12])
        tools = ["unzip", "bsdtar"] if fmt == "zip" else ["bsdtar", "gnutar"]
        for tool in tools:
            check_tree(tree_of(extract(ctx, tool, out, fmt)), want)
        expect_exit(ctx.run("hf-bundle", "--verify", out), 0)
    # the files came pinned to the commit; LFS files from the CDN, without the token there
    paths = [q["path"] for q in ctx.hub.requests() if q["listener"] == "hub"]
    assert all(f"/resolve/{commit}/" in p for p in paths if "/resolve/" in p), paths
    no_leftovers(ctx.tmp)


def test_direct_manifest_first_and_complete(ctx):
    out = ctx.path("a.tar")
    r = ctx.run("hf-bundle", "-o", out, "--repo", DATASET, "-t", "dataset", "-i", "data/*",
                "--prefix", "tiny-dataset")
    expect_exit(r, 0)
    names = [m[0] for m in members(out)]
    assert names[:2] == ["tiny-dataset", "tiny-dataset/hf-manifest.json"], names
    assert names[2:] == ["tiny-dataset/data", "tiny-dataset/data/big.parquet",
                         "tiny-dataset/data/test.csv", "tiny-dataset/data/train.csv"], names
    with tarfile.open(out) as t:
        doc = json.load(t.extractfile("tiny-dataset/hf-manifest.json"))
    files = ctx.hub.files_at(DATASET, "main", repo_type="dataset")
    assert doc["repo_id"] == DATASET and doc["repo_type"] == "dataset"
    assert doc["commit"] == ctx.hub.commit_of(DATASET, "main", repo_type="dataset")
    assert doc["tool"]["name"] == "hf-bundle" and doc["fetched_at"] is None
    assert doc["commit_date"].endswith("Z"), doc
    for f in doc["files"]:
        want = files[f["path"]]
        assert f["sha256"] == want["sha256"] and f["git_oid"] == want["git_oid"], f
        assert f["size"] == want["size"] and f["lfs"] == want["lfs"]
        assert f["url"].endswith("/" + f["path"]) and doc["commit"] in f["url"]


# --- determinism ---------------------------------------------------------------------------

def digest(path):
    with open(path, "rb") as f:
        return sha256(f.read())


def test_deterministic_source(ctx):
    src, mpath, _ = local_source(ctx, where="beside", extra={"commit_date": "2024-03-01T08:15:00Z"})
    os.makedirs(ctx.path("w1"))
    os.makedirs(ctx.path("w2"))
    for fmt, name in FORMATS.items():
        a, b = ctx.path("w1", name), ctx.path("w2", "b-" + name)
        r1 = ctx.run("hf-bundle", "-m", mpath, "-o", a, "--ro-crate", src,
                     env=ctx.env(TZ="UTC", LC_ALL="C.UTF-8"), cwd=ctx.path("w1"))
        expect_exit(r1, 0)
        # another umask, time zone, locale and working folder, relative paths
        env2 = ctx.env(TZ="Pacific/Chatham", LC_ALL="C", LANG="C")
        p = subprocess.run(["sh", "-c", 'umask 077; exec "$0" "$@"', r1.argv[0], "-q", "-m",
                            os.path.relpath(mpath, ctx.path("w2")), "-o", "b-" + name,
                            "--ro-crate", "--threads", "3", os.path.relpath(src, ctx.path("w2"))],
                           env=env2, cwd=ctx.path("w2"), capture_output=True)
        assert p.returncode == 0, p.stderr
        assert digest(a) == digest(b), fmt
        assert os.stat(b).st_mode & 0o777 == 0o600  # the umask applies to the file, not its bytes
    # every entry is dated with the commit date, owned by 0:0, 0644 or 0755
    for name in FORMATS.values():
        for m in members(ctx.path("w1", name)):
            if name.endswith(".zip"):
                assert m[4] == (2024, 3, 1, 8, 15, 0), m
            else:
                assert m[4] == 1709280900 and m[5:] == (0, 0, "", ""), m
            assert m[3] == (0o755 if m[1] else 0o644), m


def test_deterministic_direct_and_source_date_epoch(ctx):
    for name in ["a.tgz", "a.zip"]:
        digests = set()
        for i, tz in enumerate(["UTC", "Asia/Kolkata"]):
            out = ctx.path(f"{i}-{name}")
            r = ctx.run("hf-bundle", "-o", out, "--repo", TINY, "-r", "v1.0",
                        env=ctx.env(TZ=tz, SOURCE_DATE_EPOCH=EPOCH))
            expect_exit(r, 0)
            digests.add(digest(out))
            assert all(m[4] in (int(EPOCH), (2023, 11, 14, 22, 13, 20)) for m in members(out))
        assert len(digests) == 1, name
    # gzip: no time stamp and no name in the header
    head = open(ctx.path("0-a.tgz"), "rb").read(10)
    assert head[:4] == b"\x1f\x8b\x08\x00" and head[4:8] == b"\0\0\0\0", head


def test_zstd_threads_do_not_change_bytes(ctx):
    src, _, _ = local_source(ctx)
    outs = []
    for n in ["1", "2", "4"]:
        out = ctx.path(f"t{n}.tar.zst")
        expect_exit(bundle_source(ctx, src, out, "--threads", n, "--level", "19"), 0)
        outs.append(digest(out))
    assert len(set(outs)) == 1


# --- --verify --------------------------------------------------------------------------------

def rewrite_tar(src, dst, drop=None, add=None, change=None):
    with tarfile.open(src) as t, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
        for m in t.getmembers():
            if drop and m.name.endswith(drop):
                continue
            data = t.extractfile(m).read() if m.isfile() else None
            if change and m.name.endswith(change):
                data = bytes([data[0] ^ 1]) + data[1:]
            o.addfile(m, io.BytesIO(data) if data is not None else None)
        if add:
            info = tarfile.TarInfo(add)
            info.size = 5
            o.addfile(info, io.BytesIO(b"extra"))


def rewrite_zip(src, dst, drop=None, add=None):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as o:
        for i in z.infolist():
            if drop and i.filename.endswith(drop):
                continue
            o.writestr(i, z.read(i))
        if add:
            o.writestr(add, b"extra")


def test_verify_good_and_tampered(ctx):
    src, _, files = local_source(ctx)
    out = ctx.path("a.tar")
    expect_exit(bundle_source(ctx, src, out, "--ro-crate"), 0)
    prefix = "tiny-model-" + ctx.hub.commit_of(TINY, "main")[:12]
    r = ctx.run("hf-bundle", "--verify", out)
    expect_exit(r, 0)
    assert r.out.count(": OK\n") == len(files) + 1, r.out  # and the RO-Crate metadata

    # one byte changed in a file's data, in place (the tar headers stay valid)
    data = bytearray(open(out, "rb").read())
    needle = files["config.json"]["content"]
    at = data.find(needle)
    assert at > 0
    data[at + 3] ^= 0x20
    bad = ctx.path("byte.tar")
    open(bad, "wb").write(data)
    r = ctx.run("hf-bundle", "--verify", bad)
    expect_exit(r, 5, "differs from its manifest in 1 place")
    assert f"{prefix}/config.json: FAILED (changed: sha256" in r.out, r.out
    assert f"{prefix}/README.md: OK" in r.out

    # one entry missing, one extra entry
    rewrite_tar(out, ctx.path("missing.tar"), drop="/weights/part-00001.bin")
    r = ctx.run("hf-bundle", "--verify", ctx.path("missing.tar"))
    expect_exit(r, 5)
    assert f"{prefix}/weights/part-00001.bin: FAILED (missing)" in r.out, r.out
    rewrite_tar(out, ctx.path("extra.tar"), add=f"{prefix}/sneaky.sh")
    r = ctx.run("hf-bundle", "--verify", ctx.path("extra.tar"))
    expect_exit(r, 5)
    assert f"{prefix}/sneaky.sh: FAILED (an extra entry" in r.out, r.out
    rewrite_tar(out, ctx.path("twice.tar"), add=f"{prefix}/config.json")
    expect_exit(ctx.run("hf-bundle", "--verify", ctx.path("twice.tar")), 5)

    # -q: only the failures
    r = ctx.run("hf-bundle", "-q", "--verify", ctx.path("missing.tar"))
    assert r.out.strip().splitlines() == [f"{prefix}/weights/part-00001.bin: FAILED (missing)"]


def test_verify_zip_and_compressed(ctx):
    src, _, _ = local_source(ctx)
    z = ctx.path("a.zip")
    expect_exit(bundle_source(ctx, src, z), 0)
    rewrite_zip(z, ctx.path("m.zip"), drop="config.json")
    r = ctx.run("hf-bundle", "--verify", ctx.path("m.zip"))
    expect_exit(r, 5)
    assert "config.json: FAILED (missing)" in r.out
    rewrite_zip(z, ctx.path("e.zip"), add="elsewhere/x.txt")
    r = ctx.run("hf-bundle", "--verify", ctx.path("e.zip"))
    expect_exit(r, 5)
    assert "elsewhere/x.txt: FAILED (an extra entry" in r.out
    # a byte flipped inside compressed data: the archive is damaged or a file differs
    for name in ["a.tgz", "a.tar.zst", "a.zip"]:
        out = ctx.path(name)
        if not os.path.exists(out):
            expect_exit(bundle_source(ctx, src, out), 0)
        data = bytearray(open(out, "rb").read())
        data[len(data) // 2] ^= 0xFF
        bad = ctx.path("bad-" + name)
        open(bad, "wb").write(data)
        expect_exit(ctx.run("hf-bundle", "--verify", bad), 5)


def test_verify_refuses_what_is_not_a_bundle(ctx):
    plain = ctx.path("plain.tar")
    with tarfile.open(plain, "w") as t:
        info = tarfile.TarInfo("x/readme.txt")
        info.size = 2
        t.addfile(info, io.BytesIO(b"hi"))
    expect_exit(ctx.run("hf-bundle", "--verify", plain), 5, "not an hf-bundle archive")
    write(ctx.path("text.tar"), "not an archive at all\n" * 50)
    expect_exit(ctx.run("hf-bundle", "--verify", ctx.path("text.tar")), 5)
    expect_exit(ctx.run("hf-bundle", "--verify", ctx.path("nope.tar")), 2, "nope.tar")


def test_list(ctx):
    out = ctx.path("a.tar")
    expect_exit(ctx.run("hf-bundle", "-o", out, "--repo", TINY, "--ro-crate"), 0)
    r = ctx.run("hf-bundle", "--list", out)
    expect_exit(r, 0)
    lines = r.out.splitlines()
    meta = dict(f.split("=", 1) for f in lines[0][2:].split("\t"))
    files = ctx.hub.files_at(TINY, "main")
    assert meta["repo_id"] == TINY and meta["commit"] == ctx.hub.commit_of(TINY, "main")
    assert meta["files"] == str(len(files))
    assert meta["bytes"] == str(sum(f["size"] for f in files.values()))
    rows = [l.split("\t") for l in lines[3:]]
    assert rows[0][1] == "dir" and rows[1][0].endswith("/hf-manifest.json")
    by = {row[0].split("/", 1)[1]: row for row in rows if "/" in row[0].rstrip("/")}
    assert by["config.json"][4] == files["config.json"]["sha256"]
    assert by["model.safetensors"][2] == str(files["model.safetensors"]["size"])


# --- refused inputs ---------------------------------------------------------------------------

def test_changed_file_refused(ctx):
    src, _, _ = local_source(ctx)
    out = ctx.path("a.tar")
    # same size, other bytes: caught by the hash, with every changed file named
    for p in ["config.json", "tokenizer/tokenizer.json"]:
        data = bytearray(open(os.path.join(src, p), "rb").read())
        data[0] ^= 1
        open(os.path.join(src, p), "wb").write(data)
    r = bundle_source(ctx, src, out)
    expect_exit(r, 5, "config.json", "2 changed files")
    assert "tokenizer/tokenizer.json: changed: sha256" in r.err
    assert not os.path.exists(out)
    no_leftovers(ctx.tmp)
    # another size: caught before anything is written
    write(os.path.join(src, "README.md"), "shorter")
    r = bundle_source(ctx, src, out)
    expect_exit(r, 5, "README.md", "changed: 7 bytes")
    assert not os.path.exists(out)


def test_missing_and_extra_files(ctx):
    src, _, _ = local_source(ctx)
    out = ctx.path("a.zip")
    os.remove(os.path.join(src, "empty.txt"))
    expect_exit(bundle_source(ctx, src, out), 5, "empty.txt: missing")
    write(os.path.join(src, "empty.txt"), b"")
    write(os.path.join(src, "notes", "mine.txt"), "not from the Hub")
    r = bundle_source(ctx, src, out)
    expect_exit(r, 5, "notes/mine.txt", "not in the manifest")
    assert not os.path.exists(out)
    r = bundle_source(ctx, src, out, "--allow-extra")
    expect_exit(r, 0)
    assert not any("mine.txt" in m[0] for m in members(out))
    assert not any(".cache" in m[0] for m in members(out))


def test_symlinks(ctx):
    src, _, _ = local_source(ctx)
    out = ctx.path("a.tar")
    # a link to a file elsewhere, with the right content even: refused
    outside = ctx.path("outside-config.json")
    shutil.copy(os.path.join(src, "config.json"), outside)
    os.remove(os.path.join(src, "config.json"))
    os.symlink(outside, os.path.join(src, "config.json"))
    r = bundle_source(ctx, src, out)
    expect_exit(r, 5, "config.json", "outside")
    assert not os.path.exists(out)
    # a link inside SOURCE is followed
    inside = os.path.join(src, "sub dir", "kept.json")
    shutil.move(outside, inside)
    os.remove(os.path.join(src, "config.json"))
    os.symlink(os.path.join("sub dir", "kept.json"), os.path.join(src, "config.json"))
    expect_exit(bundle_source(ctx, src, out, "--allow-extra"), 0)
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)
    # a link that climbs out with ..
    os.remove(os.path.join(src, "config.json"))
    os.symlink("../../../../../../etc/hostname", os.path.join(src, "config.json"))
    expect_exit(bundle_source(ctx, src, out + "2.tar", "--allow-extra"), 5, "config.json")


def test_cache_snapshot(ctx):
    snap, mpath, files = cache_source(ctx)
    out = ctx.path("a.tgz")
    r = ctx.run("hf-bundle", "-m", mpath, "-o", out, snap)
    expect_exit(r, 0)
    check_tree(tree_of(extract(ctx, "gnutar", out, "tgz")),
               expected_tree(files, "tiny-model-" + os.path.basename(snap)[:12]))
    # the snapshot is of one commit: a manifest of another does not fit
    other = ctx.path("other.json")
    doc = json.load(open(mpath))
    doc["commit"] = ctx.hub.commit_of(TINY, "v1.0")
    write(other, json.dumps(doc))
    expect_exit(ctx.run("hf-bundle", "-m", other, "-o", ctx.path("b.tar"), snap), 5, "commit")
    # a blob link that leaves the repository's cache folder is refused
    link = os.path.join(snap, "config.json")
    os.remove(link)
    write(ctx.path("stray"), files["config.json"]["content"])
    os.symlink(ctx.path("stray"), link)
    expect_exit(ctx.run("hf-bundle", "-m", mpath, "-o", ctx.path("c.tar"), snap), 5, "outside")


def test_manifest_does_not_match(ctx):
    # the folder holds main, the manifest describes v1.0
    src, _, _ = local_source(ctx)
    old = manifest_for(ctx, TINY, hub_files(ctx, TINY, "v1.0"), rev="v1.0")
    write(ctx.path("old.json"), json.dumps(old))
    r = ctx.run("hf-bundle", "-m", ctx.path("old.json"), "-o", ctx.path("a.tar"), src)
    expect_exit(r, 5, "does not match the manifest")
    # not a manifest at all
    write(ctx.path("junk.json"), '{"repo_id": "acme/tiny-model"}')
    r = ctx.run("hf-bundle", "-m", ctx.path("junk.json"), "-o", ctx.path("a.tar"), src)
    expect_exit(r, 2, "junk.json", "invalid manifest")
    # no manifest anywhere
    os.remove(os.path.join(src, "hf-manifest.json"))
    expect_exit(ctx.run("hf-bundle", "-o", ctx.path("a.tar"), src), 2, "no manifest")


def test_manifest_found_in_cache_folder(ctx):
    src, _, files = local_source(ctx, where="cache")
    out = ctx.path("a.zip")
    expect_exit(bundle_source(ctx, src, out), 0)
    check_tree(tree_of(extract(ctx, "unzip", out, "zip")),
               expected_tree(files, "tiny-model-" + ctx.hub.commit_of(TINY, "main")[:12]))


# --- direct mode against the Hub --------------------------------------------------------------

def test_direct_corrupt_lfs_file(ctx):
    out = ctx.path("a.tar")
    ctx.hub.add_fault({"repo": TINY, "path": "weights/part-00001.bin", "kind": "corrupt",
                       "offset": 1000000})
    r = ctx.run("hf-bundle", "-o", out, "--repo", TINY)
    expect_exit(r, 5, "weights/part-00001.bin", "sha256")
    assert not os.path.exists(out)
    no_leftovers(ctx.tmp)


def test_direct_corrupt_regular_file(ctx):
    out = ctx.path("a.zip")
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "kind": "corrupt", "offset": 5})
    r = ctx.run("hf-bundle", "-o", out, "--repo", TINY)
    expect_exit(r, 5, "config.json", "git blob")
    assert not os.path.exists(out)
    no_leftovers(ctx.tmp)


def test_direct_resumes_after_a_drop(ctx):
    out = ctx.path("a.tar")
    ctx.hub.add_fault({"repo": TINY, "path": "weights/part-00001.bin", "kind": "drop",
                       "after": 200000, "times": 1})
    r = ctx.run("hf-bundle", "-o", out, "--repo", TINY, "-i", "weights/*")
    expect_exit(r, 0)
    ranges = [q["headers"].get("Range") for q in ctx.hub.requests() if q["listener"] != "hub"]
    resumed = [int(r[6:-1]) for r in ranges if r and r.startswith("bytes=") and r.endswith("-")]
    assert resumed and 0 < resumed[0] <= 200000, ranges
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)


def test_direct_retries_server_errors(ctx):
    out = ctx.path("a.tar")
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "kind": "status", "status": 503,
                       "where": "resolve", "times": 1})
    r = ctx.run("hf-bundle", "-o", out, "--repo", TINY, "-i", "config.json")
    expect_exit(r, 0)
    assert "retrying" in r.err


def test_direct_private_and_not_found(ctx):
    out = ctx.path("a.tar")
    expect_exit(ctx.run("hf-bundle", "-o", out, "--repo", "acme/private-model"), 4)
    r = ctx.run("hf-bundle", "-o", out, "--repo", "acme/private-model", "--ro-crate",
                env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert ALICE.encode() not in open(out, "rb").read()
    cdn = [q for q in ctx.hub.requests() if q["listener"] != "hub"]
    assert cdn and all("Authorization" not in q["headers"] for q in cdn)
    expect_exit(ctx.run("hf-bundle", "-o", out + ".tar", "--repo", TINY, "-r", "v9.9"), 3)
    expect_exit(ctx.run("hf-bundle", "-o", out + ".tar", "--repo", TINY, "-i", "*.nothing"), 3)
    assert not os.path.exists(out + ".tar")


# --- RO-Crate and model cards ----------------------------------------------------------------

def crate_of(archive, prefix):
    with tarfile.open(archive) as t:
        return json.load(t.extractfile(prefix + "/ro-crate-metadata.json"))


def test_ro_crate(ctx):
    out = ctx.path("a.tar")
    expect_exit(ctx.run("hf-bundle", "-o", out, "--repo", DATASET, "-t", "dataset",
                        "--ro-crate", "--prefix", "ds"), 0)
    crate = crate_of(out, "ds")
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = {e["@id"]: e for e in crate["@graph"]}
    meta = graph["ro-crate-metadata.json"]
    assert meta["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    assert meta["about"] == {"@id": "./"}
    root = graph["./"]
    commit = ctx.hub.commit_of(DATASET, "main", repo_type="dataset")
    assert root["@type"] == "Dataset"
    assert root["isBasedOn"] == {"@id": f"{ctx.hub.endpoint}/datasets/{DATASET}/tree/{commit}"}
    assert graph[root["license"]["@id"]]["name"] == "cc-by-4.0"
    assert root["datePublished"].endswith("Z")
    files = ctx.hub.files_at(DATASET, "main", repo_type="dataset")
    parts = [p["@id"] for p in root["hasPart"]]
    assert parts[0] == "hf-manifest.json" and set(parts[1:]) == set(files), parts
    for p, f in files.items():
        assert graph[p]["@type"] == "File" and graph[p]["sha256"] == f["sha256"]
        assert graph[p]["contentSize"] == str(f["size"])
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)


def test_unusual_model_cards(ctx):
    cards = {
        "multi": "---\nlicense: mit\n---\n# body\n---\nlicense: [broken\n",
        "anchors": "---\nbase: &b {name: x}\nother: *b\nlicense: &l apache-2.0\nagain: *l\n---\n",
        "number": "---\nlicense: 2.0\npretty_name: 12\n---\n",
        "list": "---\nlicense:\n  - mit\n  - {odd: thing}\n  - cc-by-4.0\n---\n",
        "null": "---\nlicense:\n---\n",
        "broken": "---\nlicense: [unclosed\n---\n",
        "bomb": "---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e]\n---\n",
        "tabs": "---\n\tlicense: mit\n---\n",
        "scalar": "---\njust a string\n---\n",
        "none": "no front matter here\n",
        "binary": "---\nlicense: \"\\0\\x01\"\n---\n",
    }
    want_licenses = {"multi": ["mit"], "anchors": ["apache-2.0"], "list": ["mit", "cc-by-4.0"]}
    for name, text in cards.items():
        files = {"README.md": {"content": text.encode()}, "a.txt": {"content": b"a\n"}}
        src, _, _ = local_source(ctx, files=files, name="src-" + name)
        out = ctx.path(name + ".tar")
        r = bundle_source(ctx, src, out, "--ro-crate", "--prefix", "p")
        expect_exit(r, 0)
        root = {e["@id"]: e for e in crate_of(out, "p")["@graph"]}["./"]
        lic = root.get("license")
        got = [] if lic is None else [l["@id"] for l in (lic if isinstance(lic, list) else [lic])]
        assert got == ["#license-" + l for l in want_licenses.get(name, [])], (name, got)
        assert root["name"] == TINY, (name, root["name"])


# --- options ----------------------------------------------------------------------------------

def test_prefix_options(ctx):
    src, _, files = local_source(ctx)
    out = ctx.path("top.tar")
    expect_exit(bundle_source(ctx, src, out, "--prefix", ""), 0)
    names = [m[0] for m in members(out)]
    assert names[0] == "hf-manifest.json" and "config.json" in names, names
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)
    out = ctx.path("deep.zip")
    expect_exit(bundle_source(ctx, src, out, "--prefix", "models/tiny/"), 0)
    check_tree(tree_of(extract(ctx, "unzip", out, "zip")), expected_tree(files, "models/tiny"))
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)
    for bad in ["../x", "/abs", "a//b"]:
        expect_exit(bundle_source(ctx, src, ctx.path("x.tar"), "--prefix", bad), 2, "--prefix")


def test_usage_errors(ctx):
    src, _, _ = local_source(ctx)
    cases = [
        ([src], "-o ARCHIVE"),
        (["-o", ctx.path("a.rar"), src], "cannot tell the format"),
        (["-o", ctx.path("a"), "--format", "rar", src], "unknown format"),
        (["-o", ctx.path("a.tgz"), "--level", "12", src], "out of range"),
        (["-o", ctx.path("a.tgz"), "--level", "x", src], "--level"),
        (["-o", ctx.path("a.tar"), "--threads", "0", src], "--threads"),
        (["-o", ctx.path("a.tar"), "--repo", TINY, src], "SOURCE"),
        (["-o", ctx.path("a.tar"), "-i", "*.json", src], "--repo"),
        (["-o", ctx.path("a.tar"), "--repo", TINY, "-m", "x.json"], "SOURCE folder"),
        (["--verify", ctx.path("a.tar"), "-o", ctx.path("b.tar")], "--verify ARCHIVE"),
        (["--verify", "--list", ctx.path("a.tar")], "alone"),
        (["-o", ctx.path("a.tar"), "--repo", "bad--id"], "bad--id"),
    ]
    for args, msg in cases:
        expect_exit(ctx.run("hf-bundle", *args), 2, msg)
    r = ctx.run("hf-bundle", "-o", ctx.path("a.tar"), src, env=ctx.env(SOURCE_DATE_EPOCH="soon"))
    expect_exit(r, 2, "SOURCE_DATE_EPOCH")
    r = ctx.run("hf-bundle", "--help")
    assert r.code == 0 and "--ro-crate" in r.out
    r = ctx.run("hf-bundle", "--version")
    assert r.code == 0 and r.out.startswith("hf-bundle ")
    # --level with plain tar is only a warning; Galaxy passes --threads to every format
    r = ctx.run("hf-bundle", "-o", ctx.path("a.tar"), "--level", "5", "--threads", "4", src)
    expect_exit(r, 0, "--level 5 ignored")
    # --format wins over the name
    expect_exit(ctx.run("hf-bundle", "-o", ctx.path("data.bin"), "--format", "tgz", src), 0)
    with open(ctx.path("data.bin"), "rb") as f:
        assert f.read(2) == b"\x1f\x8b"
    gzip.decompress(open(ctx.path("data.bin"), "rb").read())


def test_output_inside_source_and_collisions(ctx):
    src, _, _ = local_source(ctx)
    out = os.path.join(src, "bundle.tar")
    expect_exit(bundle_source(ctx, src, out), 0)
    # the earlier archive is not an extra file of the snapshot
    expect_exit(bundle_source(ctx, src, out), 0)
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)
    # a repository with its own ro-crate-metadata.json cannot take --ro-crate
    files = {"ro-crate-metadata.json": {"content": b"{}"}}
    src2, _, _ = local_source(ctx, files=files, name="crate")
    expect_exit(bundle_source(ctx, src2, ctx.path("c.tar"), "--ro-crate"), 2, "ro-crate")
    expect_exit(bundle_source(ctx, src2, ctx.path("c.tar")), 0)


def test_sync_only_when_asked(ctx):
    """No fsync by default (a Galaxy job's output need not be durable); --sync fsyncs the
    archive and its folder; the bytes are the same either way."""
    src, _, _ = local_source(ctx)
    syncs = {}
    # LeakSanitizer cannot run under ptrace: no leak check in this one (SANITIZE=1 builds)
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    for name, extra in (("plain", ()), ("synced", ("--sync",))):
        out, log = ctx.path(name + ".tar"), ctx.path(name + ".strace")
        r = ctx.run(shutil.which("strace"), "-f", "-qq", "-e", "trace=fsync,fdatasync,syncfs",
                    "-o", log, os.path.join(BIN_DIR, "hf-bundle"), "-o", out, *extra, src,
                    env=ctx.env(ASAN_OPTIONS=asan))
        expect_exit(r, 0)
        syncs[name] = [l for l in open(log) if re.search(r"\b(fsync|fdatasync|syncfs)\(", l)]
    assert syncs["plain"] == [], syncs["plain"]
    assert len(syncs["synced"]) >= 2, syncs["synced"]
    assert digest(ctx.path("plain.tar")) == digest(ctx.path("synced.tar"))
