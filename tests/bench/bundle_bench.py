#!/usr/bin/env python3
"""`make bench-bundle` (and the second half of `make bench`): hf-bundle against tar and zstd.

Cases (--cases), on loopback only, with the machinery of tests/bench/bench.py (the fixture
Hub with file-backed blobs, nginx as the CDN, round-robin rounds, GNU time, untimed `sync`
before each measurement):
  source     `hf-bundle -o X.tar SRC` against `tar cf X.tar -C SRC .`, SRC a folder written
             by `hf-fetch --local-dir` (with its manifest): one 1 GiB LFS file of AES-CTR
             keystream plus a few small files.
  zstd       `hf-bundle -o X.tar.zst --threads 2 SRC` against
             `tar -I 'zstd -T2' -cf X.tar.zst -C SRC .`, same SRC. The 1 GiB file is random:
             zstd cannot compress it (the output is as large as the input).
  zstd-text  the same with a compressible SRC: 256 MiB of repetitive text (an LFS file of
             numbered lines drawn from 4096 distinct ones) plus the same small files.
  direct     `hf-bundle -o X.tar --repo REPO` (streams from the Hub into the archive) against
             `hf-fetch --local-dir D REPO && hf-bundle -o X.tar D`: the same archive contents,
             with or without the copy on disk.
  verify-folders  `hf-bundle --verify` of a hostile .tar.gz (tests/cli/archives.py): a manifest
             of 60,000 files d000000/f.., and only their 60,000 folders in the archive (exit 5,
             60,000 differences), and of the good archive with the files too, against
             `tar -tzf` of the same archives. Once quadratic in the folders (issue 11); the
             target is a generous bound of 10 s, not a ratio.

hf-bundle does not fsync its archive unless asked (--sync), nor do tar and zstd; the source
and zstd cases also have a `hf-bundle --sync` row and a `tar ...; sync X` row (coreutils'
`sync FILE` is an fsync), compared with each other.
Where tmpfs is available, some rows write their archive there (no disk at all): hf-bundle in
every case, and tar in the source case.

Writes build/bench/bundle/results.json and results.md, and prints the summary.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (make_blob, Servers, measure, run_case, summarize, machine_facts)
from bench import GiB, MiB, ROOT, log, loadavg, out_of  # noqa: E402

REPO, TEXT_REPO = "bench/bundle", "bench/bundle-text"
HASH = "openssl dgst -sha256 of SRC's files (hash floor)"
TARGETS = {"source_vs_tar": 1.15, "zstd_vs_tar": 1.0, "direct_vs_two_step": 1.0,
           "verify_folders_s": 10.0, "zstd_rss_vs_tar": 1.2}
FOLDERS = 60000
DATE = "2024-06-01T12:00:00Z"


def make_text(path, size):
    """`size` bytes of repetitive, compressible text (deterministic), once; and its sha256."""
    stamp = path + ".sha256"
    if os.path.exists(path) and os.path.getsize(path) == size and os.path.exists(stamp):
        with open(stamp) as f:
            parts = f.read().split()
        if len(parts) == 3 and parts[0] == str(size) and parts[1] == str(int(os.stat(path).st_mtime)):
            return parts[2]
    log("generating %s (%d bytes of text)" % (os.path.relpath(path, ROOT), size))
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
             "juliett", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
             "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
             "token", "layer", "weight", "bias", "attention", "head", "embedding", "norm"]
    lines = []
    x = 12345
    for i in range(4096):
        n = 6 + i % 11
        ws = []
        for _ in range(n):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            ws.append(words[(x >> 8) % len(words)])
        lines.append(" ".join(ws) + " %d.%03d\n" % (x % 1000, i % 997))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        left, n, part = size, 0, []
        while left > 0:
            s = "%09d " % n + lines[(n * 2654435761 >> 7) % 4096]
            n += 1
            part.append(s)
            left -= len(s)
            if len(part) == 65536 or left <= 0:
                f.write("".join(part))
                part = []
    with open(tmp, "r+b") as f:
        f.truncate(size)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    dg = out_of(["openssl", "dgst", "-sha256", "-r", path]).split()[0]
    with open(stamp, "w") as f:
        f.write("%d %d %s\n" % (size, int(os.stat(path).st_mtime), dg))
    return dg


def small_files():
    """The few regular files beside the LFS one: a model repository's usual companions."""
    return {
        ".gitattributes": {"lines": ["*.bin filter=lfs diff=lfs merge=lfs -text",
                                     "*.txt filter=lfs diff=lfs merge=lfs -text"]},
        "README.md": {"card": {"license": "apache-2.0", "tags": ["bench"]},
                      "lines": ["", "# bundle bench", "", "A snapshot for `make bench`."]},
        "config.json": {"json": {"architectures": ["Bench"], "hidden_size": 1024, "num_layers": 24}},
        "tokenizer.json": {"size": 2 * MiB, "seed": "bundle-tokenizer"},
        "vocab.txt": {"size": 512 * 1024, "seed": "bundle-vocab"},
    }


def write_hub_data(d, big, text):
    os.makedirs(os.path.join(d, "repos"), exist_ok=True)
    with open(os.path.join(d, "tokens.json"), "w") as f:
        json.dump({"tokens": {}, "users": {}}, f)

    def repo(rid, name, blob):
        path, size, sha = blob
        files = dict(small_files())
        files[name] = {"file": path, "size": size, "sha256": sha, "lfs": True}
        return {"id": rid, "commits": [{"id": "c1", "date": DATE, "message": "Add the snapshot",
                                        "files": files}]}
    with open(os.path.join(d, "repos", "bundle.json"), "w") as f:
        json.dump([repo(REPO, "model.bin", big), repo(TEXT_REPO, "corpus.txt", text)], f, indent=1)


def entries_of(listing):
    """`tar -tv` output -> {name: size} (names without a leading ./)."""
    out = {}
    for line in listing.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[0].startswith("-"):
            out[parts[5].split("/", 1)[-1] if not parts[5].startswith("./") else parts[5][2:]] = int(parts[2])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "bundle"))
    ap.add_argument("--size", type=int, default=GiB, help="bytes of the random LFS file (default 1 GiB)")
    ap.add_argument("--text-size", type=int, default=256 * MiB,
                    help="bytes of the compressible text file (default 256 MiB)")
    ap.add_argument("--runs", type=int, default=5, help="rounds per case (default 5)")
    ap.add_argument("--runs-direct", type=int, default=None, help="rounds of the direct case (default --runs)")
    ap.add_argument("--cases", default="source,zstd,zstd-text,direct,verify-folders")
    ap.add_argument("--threads", type=int, default=2, help="zstd threads, both tools (default 2)")
    ap.add_argument("--tmpfs", default="/dev/shm", help="for the output-on-tmpfs rows ('' to skip)")
    ap.add_argument("--serve", action="store_true",
                    help="only set up (servers, SOURCE folders), print them, wait for ^C")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    a.command_line = os.environ.get("BENCH_COMMAND") or " ".join(["python3"] + sys.argv)
    cases = a.cases.split(",")
    for c in cases:
        if c not in ("source", "zstd", "zstd-text", "direct", "verify-folders"):
            ap.error("unknown case %r" % c)
    if not shutil.which("zstd") and any(c.startswith("zstd") for c in cases):
        log("no zstd command: the zstd cases are skipped (apt-get install zstd)")
        cases = [c for c in cases if not c.startswith("zstd")]
    work = os.path.abspath(a.work)
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    outdir = os.path.join(work, "out")
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    bins = {}
    for name in ("hf-bundle", "hf-fetch"):   # copies: a rebuild of bin/ cannot mix two binaries
        bins[name] = os.path.join(work, name)
        shutil.copy2(os.path.join(a.bin, name), bins[name] + ".tmp")
        os.replace(bins[name] + ".tmp", bins[name])
    hf_bundle, hf_fetch = bins["hf-bundle"], bins["hf-fetch"]
    facts = bench.machine_facts(work, None)
    facts["hf_bundle"] = "%s, %s" % (out_of([hf_bundle, "--version"]), bench.build_kind(a.bin))
    for name in bins:
        with open(bins[name], "rb") as f:
            facts[name.replace("-", "_") + "_sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
    facts["git_dirty"] = bool(out_of(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "tools"]))
    facts["tar"] = out_of(["tar", "--version"]).split("\n")[0]
    facts["zstd"] = out_of(["zstd", "--version"])
    facts["libarchive"] = "libarchive " + (out_of(["dpkg-query", "-W", "-f", "${Version}", "libarchive13"])
                                           or out_of(["sh", "-c", "ldd %s | grep -o 'libarchive[^ ]*'" % hf_bundle]))

    big_path = os.path.join(work, "data", "model.bin")
    text_path = os.path.join(work, "data", "corpus.txt")
    big_sha = bench.make_blob(big_path, a.size, "hf-bundle-bench-big")
    text_sha = make_text(text_path, a.text_size)
    blobs = os.path.join(work, "blobs")
    shutil.rmtree(blobs, ignore_errors=True)
    os.makedirs(blobs)
    for p, sha in ((big_path, big_sha), (text_path, text_sha)):
        os.link(p, os.path.join(blobs, sha))
    hub_data = os.path.join(work, "hub")
    shutil.rmtree(hub_data, ignore_errors=True)
    write_hub_data(hub_data, (big_path, a.size, big_sha), (text_path, a.text_size, text_sha))
    # no small-files repository here: the nginx front of bench.py is configured but unused
    srv = bench.Servers(work, hub_data, blobs, {}, "0" * 40)
    log("hub %s, CDN nginx %s" % (srv.hub_endpoint, srv.cdn))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGING")) and k != "SOURCE_DATE_EPOCH"}
    env.update({"HF_ENDPOINT": srv.hub_endpoint, "HF_HOME": os.path.join(work, "home"),
                "HF_HUB_DISABLE_TELEMETRY": "1", "NO_PROXY": "*", "no_proxy": "*"})
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)

    tmpdir = os.path.join(a.tmpfs, "hf-bundle-bench-%d" % os.getpid()) if a.tmpfs else None
    results = {}
    counter = [0]

    def fresh(base=outdir):
        counter[0] += 1
        d = os.path.join(base, "run-%03d" % counter[0])
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def rm(d):
        return lambda: shutil.rmtree(d, ignore_errors=True)

    def tmpfs_ok(need):
        if not tmpdir or not os.path.isdir(a.tmpfs) or shutil.disk_usage(a.tmpfs).free <= need:
            return False
        os.makedirs(tmpdir, exist_ok=True)
        return True

    smalls = small_files()
    try:
        # the SOURCE folders, untimed: what `hf-fetch --local-dir` leaves (files and manifest)
        sources = {}
        for rid, name, size, sha, need in ((REPO, "model.bin", a.size, big_sha, ("source", "zstd")),
                                           (TEXT_REPO, "corpus.txt", a.text_size, text_sha, ("zstd-text",))):
            if not any(c in cases for c in need):
                continue
            src = os.path.join(work, "src-" + rid.split("/")[1])
            shutil.rmtree(src, ignore_errors=True)
            log("fetching %s into %s (untimed)" % (rid, os.path.relpath(src, ROOT)))
            subprocess.run([hf_fetch, "-q", "--local-dir", src, rid], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            bad = bench.check_big(src, name, size, sha, True)
            if bad:
                raise RuntimeError(bad)
            sources[rid] = src
        expect = {rid: dict({p: None for p in smalls}, **{n: s})
                  for rid, n, s in ((REPO, "model.bin", a.size), (TEXT_REPO, "corpus.txt", a.text_size))}
        if a.serve:
            sys.stdout.write("HF_ENDPOINT=%s\nCDN=%s\n" % (srv.hub_endpoint, srv.cdn))
            for rid, src in sources.items():
                sys.stdout.write("SOURCE %s=%s\n" % (rid, src))
            sys.stdout.write("HF_BUNDLE=%s\nHF_FETCH=%s\n" % (hf_bundle, hf_fetch))
            sys.stdout.flush()
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM])
            signal.sigwait([signal.SIGINT, signal.SIGTERM])
            return 0

        def check_archive(path, rid, kind, full):
            """Untimed. Every round: the archive is there and at least as large as its files
            (uncompressed formats). Round 1: the listing (tar) or --verify (hf-bundle)."""
            if not os.path.isfile(path):
                return "no archive %s" % path
            total = sum(v for v in expect[rid].values() if v)
            if path.endswith(".tar") and os.path.getsize(path) < total:
                return "archive too small: %d bytes" % os.path.getsize(path)
            if not full:
                return None
            if kind == "hf-bundle":
                r = subprocess.run([hf_bundle, "-q", "--verify", path], capture_output=True, text=True)
                return None if r.returncode == 0 else "hf-bundle --verify: rc %d %s" % (
                    r.returncode, (r.stdout + r.stderr)[-300:])
            cmd = ["tar", "-tvf", path] if path.endswith(".tar") else ["tar", "-I", "zstd", "-tvf", path]
            got = entries_of(out_of(cmd))
            for p, sz in expect[rid].items():
                if p not in got or (sz is not None and got[p] != sz):
                    return "%s: %s missing or wrong size in %s" % (" ".join(cmd[:-1]), p, got)
            return None

        def bundle(rid, ext, extra=(), base=None, src=True):
            def prep(r):
                d = fresh(base or outdir)
                out = os.path.join(d, "x" + ext)
                cmd = [hf_bundle, "-q", "-o", out] + list(extra)
                cmd += [sources[rid]] if src else ["--repo", rid]
                return (cmd, env, lambda r: check_archive(out, rid, "hf-bundle", r == 0), rm(d))
            return prep

        def tar_(rid, ext, sync=False, base=None):
            def prep(r):
                d = fresh(base or outdir)
                out = os.path.join(d, "x" + ext)
                z = [] if ext == ".tar" else ["-I", "zstd -T%d" % a.threads]
                if not sync:
                    cmd = ["tar"] + z + ["-cf", out, "-C", sources[rid], "."]
                else:   # coreutils `sync FILE` is fsync(FILE), what hf-bundle does at the end
                    cmd = ["sh", "-c", 'out=$1; shift; tar "$@" && exec sync "$out"', "sh", out] + z + [
                        "-cf", out, "-C", sources[rid], "."]
                return (cmd, env, lambda r: check_archive(out, rid, "tar", r == 0), rm(d))
            return prep

        def hash_floor(rid):
            """sha256 of the snapshot's files, one after the other: what hf-bundle must do."""
            return lambda r: (["openssl", "dgst", "-sha256"] + [os.path.join(sources[rid], p)
                                                               for p in sorted(expect[rid])],
                              env, None, None)

        T = "--threads %d" % a.threads
        zq = "'zstd -T%d'" % a.threads
        if "source" in cases:
            results["source"] = {"title": "SOURCE to .tar: %s plus %d small files (%d bytes of "
                                          "AES-CTR keystream)" % ("model.bin", len(smalls), a.size)}
            tools = [("hf-bundle -o X.tar SRC", bundle(REPO, ".tar")),
                     ("hf-bundle --sync -o X.tar SRC", bundle(REPO, ".tar", ["--sync"])),
                     ("tar cf X.tar -C SRC .", tar_(REPO, ".tar")),
                     ("tar cf X.tar -C SRC .; sync X.tar", tar_(REPO, ".tar", sync=True)),
                     (HASH, hash_floor(REPO))]
            if tmpfs_ok(2 * a.size + 64 * MiB):
                tools.append(("hf-bundle -o X.tar SRC, output on tmpfs", bundle(REPO, ".tar", base=tmpdir)))
                tools.append(("tar cf X.tar -C SRC ., output on tmpfs", tar_(REPO, ".tar", base=tmpdir)))
            bench.run_case("source", tools, a.runs, srv, results)
        for case, rid in (("zstd", REPO), ("zstd-text", TEXT_REPO)):
            if case not in cases:
                continue
            results[case] = {"title": "SOURCE to .tar.zst, %d threads: %s" % (
                a.threads, "the same snapshot of %d random bytes (zstd cannot compress them)" % a.size if case == "zstd"
                else "%d bytes of repetitive text plus the same small files" % a.text_size)}
            tools = [("hf-bundle -o X.tar.zst %s SRC" % T, bundle(rid, ".tar.zst", ["--threads", str(a.threads)])),
                     ("hf-bundle --sync -o X.tar.zst %s SRC" % T,
                      bundle(rid, ".tar.zst", ["--sync", "--threads", str(a.threads)])),
                     ("tar -I %s -cf X.tar.zst -C SRC ." % zq, tar_(rid, ".tar.zst")),
                     ("tar -I %s -cf X.tar.zst -C SRC .; sync X.tar.zst" % zq, tar_(rid, ".tar.zst", sync=True)),
                     (HASH, hash_floor(rid))]
            if tmpfs_ok(2 * a.size + 64 * MiB):
                tools.append(("hf-bundle -o X.tar.zst %s SRC, output on tmpfs" % T,
                              bundle(rid, ".tar.zst", ["--threads", str(a.threads)], base=tmpdir)))
            bench.run_case(case, tools, a.runs, srv, results)
        if "direct" in cases:
            results["direct"] = {"title": "From the Hub to .tar: %s (model.bin from nginx)" % REPO}

            def two_step(r):
                d = fresh()
                out = os.path.join(d, "x.tar")
                cmd = ["sh", "-c", '"$1" -q --local-dir "$3/src" "$4" >/dev/null && exec "$2" -q -o "$3/x.tar" "$3/src"',
                       "sh", hf_fetch, hf_bundle, d, REPO]
                return (cmd, env, lambda r: check_archive(out, REPO, "hf-bundle", r == 0), rm(d))

            def fetch_only(r):
                d = fresh()
                return ([hf_fetch, "-q", "--local-dir", os.path.join(d, "src"), REPO], env,
                        lambda r: bench.check_big(os.path.join(d, "src"), "model.bin", a.size, big_sha, False), rm(d))
            tools = [("hf-bundle -o X.tar --repo REPO", bundle(REPO, ".tar", src=False)),
                     ("hf-fetch --local-dir D REPO && hf-bundle -o X.tar D", two_step),
                     ("hf-fetch --local-dir D REPO (the first step alone)", fetch_only)]
            if tmpfs_ok(2 * a.size + 64 * MiB):
                tools.append(("hf-bundle -o X.tar --repo REPO, output on tmpfs",
                              bundle(REPO, ".tar", base=tmpdir, src=False)))
            bench.run_case("direct", tools, a.runs_direct or a.runs, srv, results)
        if "verify-folders" in cases:
            sys.path.insert(0, os.path.join(ROOT, "tests", "cli"))
            import archives  # noqa: E402
            arch = {}
            for kind in ("hostile", "good"):
                arch[kind] = os.path.join(work, "data", "folders-%d-%s.tar.gz" % (FOLDERS, kind))
                if not os.path.exists(arch[kind]):
                    log("making %s (untimed)" % os.path.relpath(arch[kind], ROOT))
                    archives.many_folders(arch[kind] + ".tmp", FOLDERS, hostile=kind == "hostile")
                    os.replace(arch[kind] + ".tmp", arch[kind])
            results["verify-folders"] = {"title": "--verify of %d folders: a hostile .tar.gz of %d bytes "
                                                  "(folders only) and the good one of %d bytes" % (
                                                      FOLDERS, os.path.getsize(arch["hostile"]),
                                                      os.path.getsize(arch["good"]))}

            def verify(kind, want):
                def prep(r):  # hf-bundle must say what it should: 0, or 5 for the hostile one
                    return (["sh", "-c", '"$1" -q --verify "$2" >/dev/null 2>&1; test $? -eq %d' % want,
                             "sh", hf_bundle, arch[kind]], env, None, None)
                return prep

            def list_(kind):
                return lambda r: (["tar", "-tzf", arch[kind]], env, None, None)
            tools = [("hf-bundle --verify HOSTILE", verify("hostile", 5)),
                     ("tar -tzf HOSTILE", list_("hostile")),
                     ("hf-bundle --verify GOOD", verify("good", 0)),
                     ("tar -tzf GOOD", list_("good"))]
            bench.run_case("verify-folders", tools, a.runs, srv, results)
    finally:
        srv.stop()
        shutil.rmtree(outdir, ignore_errors=True)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    facts["uptime_end"] = out_of(["uptime"])
    md, ratios, S = report(results, facts, a)
    md += "\n`uptime` at the end: `%s`.\n" % facts["uptime_end"]
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"facts": facts, "results": results, "summary": S, "ratios": ratios}, f, indent=1)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)
    log("wrote %s and results.json" % os.path.relpath(os.path.join(work, "results.md"), ROOT))
    failed = any(r["rc"] != 0 or r.get("bad") for c in results.values() for runs in c["tools"].values()
                 for r in runs)
    return 1 if failed else 0


def report(res, facts, a):
    S = {c: {t: bench.summarize(runs) for t, runs in res[c]["tools"].items()} for c in res}

    def med(c, prefix):
        for t, s in S.get(c, {}).items():
            if t == prefix and s:
                return s["median"]
        return None
    T, zq = "--threads %d" % a.threads, "'zstd -T%d'" % a.threads
    ZB, ZT = "hf-bundle -o X.tar.zst %s SRC" % T, "tar -I %s -cf X.tar.zst -C SRC ." % zq
    # (key, text, (case, numerator), (case, denominator), target key, higher is better)
    spec = [("source_vs_tar", "source: hf-bundle / tar cf", ("source", "hf-bundle -o X.tar SRC"),
             ("source", "tar cf X.tar -C SRC ."), "source_vs_tar"),
            ("source_vs_tar_sync", "source: hf-bundle --sync / (tar cf; sync X.tar)",
             ("source", "hf-bundle --sync -o X.tar SRC"),
             ("source", "tar cf X.tar -C SRC .; sync X.tar"), None),
            ("source_tmpfs_vs_tar_tmpfs", "source: hf-bundle / tar cf, both writing to tmpfs",
             ("source", "hf-bundle -o X.tar SRC, output on tmpfs"),
             ("source", "tar cf X.tar -C SRC ., output on tmpfs"), None)]
    for c in ("zstd", "zstd-text"):
        spec += [("%s_vs_tar" % c, "%s: hf-bundle / tar -I %s" % (c, zq), (c, ZB), (c, ZT), "zstd_vs_tar"),
                 ("%s_vs_tar_sync" % c, "%s: hf-bundle --sync / (tar -I %s; sync)" % (c, zq),
                  (c, "hf-bundle --sync -o X.tar.zst %s SRC" % T),
                  (c, ZT + "; sync X.tar.zst"), None)]
    spec += [("direct_vs_two_step", "direct: --repo / (hf-fetch --local-dir, then hf-bundle)",
              ("direct", "hf-bundle -o X.tar --repo REPO"),
              ("direct", "hf-fetch --local-dir D REPO && hf-bundle -o X.tar D"), "direct_vs_two_step")]
    spec += [("verify_hostile_vs_tar", "verify-folders: hf-bundle --verify / tar -tzf, hostile",
              ("verify-folders", "hf-bundle --verify HOSTILE"), ("verify-folders", "tar -tzf HOSTILE"), None),
             ("verify_good_vs_tar", "verify-folders: hf-bundle --verify / tar -tzf, good",
              ("verify-folders", "hf-bundle --verify GOOD"), ("verify-folders", "tar -tzf GOOD"), None)]
    r = {}
    for key, _, num, den, _ in spec:
        n, d = med(*num), med(*den)
        r[key] = n / d if n and d else None
    # hf-bundle hashes every byte it archives (one thread a file): its floor is the larger of
    # tar's time and the hash's, and its CPU at least tar's plus the hash's
    for c, tb, tt, key in (("source", "hf-bundle -o X.tar SRC", "tar cf X.tar -C SRC .", "source"),
                           ("zstd", ZB, ZT, "zstd"), ("zstd-text", ZB, ZT, "zstd-text")):
        sb, st, sh = (S.get(c, {}).get(t) for t in (tb, tt, HASH))
        if sb and st and sh:
            r[key + "_vs_both_floors"] = sb["median"] / max(st["median"], sh["median"])
            r[key + "_cpu_vs_tar_and_hash"] = sb["cpu"] / (st["cpu"] + sh["cpu"])
    r["verify_folders_s"] = med("verify-folders", "hf-bundle --verify HOSTILE")
    for c in ("zstd", "zstd-text"):   # peak RSS: hf-bundle against tar -I zstd (zstd's, a child)
        a_, b_ = S.get(c, {}).get(ZB), S.get(c, {}).get(ZT)
        r["%s_rss_vs_tar" % c] = a_["rss_mib"] / b_["rss_mib"] if a_ and b_ and b_["rss_mib"] else None
    rss = [s["rss_mib"] for c in S for t, s in S[c].items() if s and t.startswith("hf-bundle")]
    r["rss_mib"] = max(rss) if rss else None

    L = ["Command: `%s`" % a.command_line, ""]
    L.append("Machine: %s, %s cores, %s RAM, kernel %s, virt %s; output on %s (tmpfs rows: %s)."
             % (facts["cpu"], facts["cores"], facts["mem"], facts["kernel"], facts["virt"], facts["fs"],
                a.tmpfs or "none"))
    L.append("Versions: %s and %s (git %s%s; binary sha256 %s... and %s...); %s; %s; %s; %s; %s."
             % (facts["hf_bundle"], facts["hf_fetch"], facts["git"],
                ", src/ or tools/ modified" if facts.get("git_dirty") else "",
                facts.get("hf_bundle_sha256", "?"), facts.get("hf_fetch_sha256", "?"), facts["libarchive"],
                facts["tar"], facts["zstd"], facts["nginx"], facts["openssl"]))
    L.append("Started %s; `uptime` at start: `%s`." % (facts["date"], facts["uptime"]))
    for c in res:
        L += ["", "### %s" % res[c]["title"], ""]
        L.append("Load average (1/5/15 min) before each round: %s; after: %s."
                 % ("; ".join(res[c]["load"][:-1]), res[c]["load"][-1]))
        L += ["", "| command | runs | median s | min s | max s | median CPU s | peak RSS MiB | hub CPU s "
                  "| nginx CPU s | each run, s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for t in res[c]["tools"]:
            s = S[c][t]
            label = "`%s`" % t
            for tail in (", output on tmpfs", " (the first step alone)"):
                if t.endswith(tail):
                    label = "`%s`%s" % (t[:-len(tail)], tail)
            if not s:
                L.append("| %s | 0 (all %d failed) | | | | | | | | |" % (label, len(res[c]["tools"][t])))
                continue
            each = " ".join("%.2f" % m["wall"] if m["rc"] == 0 and not m.get("bad") else "fail"
                            for m in res[c]["tools"][t])
            L.append("| %s | %d%s | %.3f | %.3f | %.3f | %.3f | %.1f | %.2f | %.2f | %s |"
                     % (label, s["n"], " (+%d failed)" % s["failed"] if s["failed"] else "", s["median"], s["min"],
                        s["max"], s["cpu"], s["rss_mib"], s["hub_cpu"], s["nginx_cpu"], each))
    L += ["", "### Ratios against the targets (medians)", "", "| measure | value | target | |",
          "| --- | ---: | ---: | --- |"]
    for key, text, _, _, tkey in spec:
        v = r.get(key)
        if v is None:
            continue
        if tkey:
            t = TARGETS[tkey]
            ok = v < t if tkey == "direct_vs_two_step" else v <= t
            L.append("| %s | %.2fx | %s %.2fx | %s |" % (text, v, "<" if tkey == "direct_vs_two_step" else "<=",
                                                       t, "met" if ok else "MISSED"))
        else:
            L.append("| %s | %.2fx | | |" % (text, v))
    for key, name in (("source", "tar cf"), ("zstd", "tar -I " + zq), ("zstd-text", "tar -I " + zq)):
        v, cpu = r.get(key + "_vs_both_floors"), r.get(key + "_cpu_vs_tar_and_hash")
        if v is not None:
            L.append("| %s: hf-bundle / the larger of %s and the hash floor (wall) | %.2fx | | |" % (key, name, v))
            L.append("| %s: hf-bundle CPU / %s CPU + hash floor CPU | %.2fx | | |" % (key, name, cpu))
    for c in ("zstd", "zstd-text"):
        v = r.get("%s_rss_vs_tar" % c)
        if v is not None:
            t = TARGETS["zstd_rss_vs_tar"]
            L.append("| %s: peak RSS, hf-bundle / tar -I %s | %.2fx | <= %.2fx | %s |"
                     % (c, zq, v, t, "met" if v <= t else "MISSED"))
    v = r["verify_folders_s"]
    if v is not None:
        t = TARGETS["verify_folders_s"]
        L.append("| verify-folders: hf-bundle --verify of %d folders (hostile), seconds | %.2f s | <= %.0f s | %s |"
                 % (FOLDERS, v, t, "met" if v <= t else "MISSED"))
    v = r["rss_mib"]
    L.append("| peak RSS of hf-bundle, any row | %s | | |" % ("%.1f MiB" % v if v else "n/a"))
    return "\n".join(L) + "\n", r, S


if __name__ == "__main__":
    sys.exit(main())
