#!/usr/bin/env python3
"""`make bench` (third part): hf-upload of one LFS file (1 GiB by default, multipart) against
its floor, the time to sha256 the file plus transfer it to the same fixture storage with curl.

The fixture Hub (tests/hub/hub.py) runs in this process with storage_dir: storage PUTs are
streamed to files (hashed on the way, as every object and part is checked), parts of
--part-size bytes. Each round, on a fresh repository and an empty storage:
  hf-upload  --create --no-card -j JOBS REPO FILE: hashes, preupload, LFS batch, the parts
             (JOBS at a time), completion, verify, the commit;
  floor      `openssl dgst -sha256 FILE`, then one curl with --parallel --parallel-max JOBS
             PUTting the same parts (split beforehand, untimed) to the part URLs of a batch
             call made untimed, then curl POSTing the completion (its ETags computed untimed).
Wall time by perf_counter, hf-upload's peak RSS by GNU time. The file and the parts stay in
the page cache: both sides read them from memory alike. Writes build/bench/upload/results.json
and results.md, prints the summary, and exits 1 when a target is missed.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
import hub  # noqa: E402

MiB = 1 << 20
TARGETS = {"upload_vs_floor": 1.3, "rss_mib": 32.0}
WRITE = "fixture-token-alice-write"
TIME = "/usr/bin/time"


def log(msg):
    sys.stderr.write("upload-bench: %s\n" % msg)
    sys.stderr.flush()


def post(url, body, ctype, token=WRITE):
    rq = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": ctype, "Accept": ctype, "Authorization": "Bearer " + token})
    with urllib.request.urlopen(rq, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def make_file(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    log("writing %d MiB of test data to %s" % (size // MiB, path))
    with open(path + ".tmp", "wb") as f:
        left, n = size, 0
        while left:
            b = hub.generated_bytes(min(64 * MiB, left), "upload-bench-%d" % n)
            f.write(b)
            left -= len(b)
            n += 1
    os.replace(path + ".tmp", path)


def split(path, part, out):
    """The parts as files, and each part's md5 (the ETag storage answers)."""
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    files, md5s = [], []
    with open(path, "rb") as f:
        n = 1
        while True:
            b = f.read(part)
            if not b:
                break
            p = os.path.join(out, "part-%05d" % n)
            with open(p, "wb") as g:
                g.write(b)
            files.append(p)
            md5s.append(hashlib.md5(b).hexdigest())
            n += 1
    return files, md5s


def timed(cmd, env):
    with tempfile.NamedTemporaryFile("r") as tf, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.run([TIME, "-o", tf.name, "-f", "%M %x"] + cmd, env=env, stdout=subprocess.DEVNULL,
                           stderr=err)
        wall = time.perf_counter() - t0
        err.seek(0)
        tail = err.read()[-1500:].decode("utf-8", "replace")
        last = (tf.read().strip().splitlines() or ["0 1"])[-1].split()
    rc = int(last[1]) if len(last) > 1 else p.returncode
    return {"wall": wall, "rss_kib": int(last[0]), "rc": rc, "stderr": tail}


def clear_storage(fx, storage):
    with fx._write_lock:
        fx.store.objects.clear()
        fx._uploads.clear()
    for n in os.listdir(storage):
        os.unlink(os.path.join(storage, n))
    subprocess.run(["sync"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    ap.add_argument("--part-size", type=int, default=64, help="MiB (default 64)")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "upload"))
    a = ap.parse_args()
    size, part = a.size * MiB, a.part_size * MiB
    os.makedirs(a.work, exist_ok=True)
    data = os.path.join(a.work, "big.safetensors")
    storage = os.path.join(a.work, "storage")
    os.makedirs(storage, exist_ok=True)
    make_file(data, size)
    log("sha256 of the test data")
    sha = subprocess.run(["openssl", "dgst", "-sha256", "-r", data], capture_output=True,
                         text=True, check=True).stdout.split()[0]
    parts, md5s = split(data, part, os.path.join(a.work, "parts"))
    fx = hub.FixtureHub(lfs_part_size=part, storage_dir=storage).start()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": a.work, "HF_ENDPOINT": fx.endpoint,
           "HF_TOKEN": WRITE, "HF_HOME": os.path.join(a.work, "hf-home"), "LC_ALL": "C.UTF-8"}
    rows = {"hf-upload": [], "floor": []}
    failed = []
    try:
        for run in range(a.runs):
            clear_storage(fx, storage)
            repo = "alice/bench-%d" % run
            r = timed([os.path.join(a.bin, "hf-upload"), "--create", "--no-card", "--progress", "none",
                       "-j", str(a.jobs), "-q", repo, data], env)
            ok = r["rc"] == 0 and hub_has(fx, repo, sha, size)
            if not ok:
                failed.append("hf-upload run %d: exit %d %s" % (run, r["rc"], r["stderr"]))
            rows["hf-upload"].append(r)
            log("round %d: hf-upload %.2f s, %.1f MiB peak RSS" % (run + 1, r["wall"], r["rss_kib"] / 1024))

            clear_storage(fx, storage)
            prepo = "alice/floor-%d" % run
            post(fx.endpoint + "/api/repos/create", json.dumps({"name": prepo.split("/")[1],
                                                                "organization": "alice"}).encode(),
                 "application/json")
            ans = post(fx.endpoint + "/%s.git/info/lfs/objects/batch" % prepo, json.dumps({
                "operation": "upload", "transfers": ["basic", "multipart"],
                "objects": [{"oid": sha, "size": size}]}).encode(), "application/vnd.git-lfs+json")
            up = ans["objects"][0]["actions"]["upload"]
            urls = [up["header"]["%05d" % (i + 1)] for i in range(len(parts))]
            complete = os.path.join(a.work, "complete.json")
            with open(complete, "w") as f:
                json.dump({"oid": sha, "parts": [{"partNumber": i + 1, "etag": m} for i, m in
                                                 enumerate(md5s)]}, f)
            cmd = ["sh", "-c", 'openssl dgst -sha256 "$0" >/dev/null && curl -sSf --parallel '
                   '--parallel-max %d %s >/dev/null && curl -sSf -X POST -H "Content-Type: '
                   'application/vnd.git-lfs+json" --data-binary @"$1" "$2" >/dev/null' % (
                       a.jobs, " ".join("-T '%s' '%s'" % (p, u) for p, u in zip(parts, urls))),
                   data, complete, up["href"]]
            r = timed(cmd, env)
            ok = r["rc"] == 0 and sha in fx.store.objects
            if not ok:
                failed.append("floor run %d: exit %d %s" % (run, r["rc"], r["stderr"]))
            rows["floor"].append(r)
            log("round %d: floor %.2f s" % (run + 1, r["wall"]))
    finally:
        fx.stop()
        clear_storage(fx, storage)
    med = {k: statistics.median(x["wall"] for x in v) for k, v in rows.items()}
    rss = max(x["rss_kib"] for x in rows["hf-upload"]) / 1024
    ratio = med["hf-upload"] / med["floor"]
    res = {"size_mib": a.size, "part_mib": a.part_size, "jobs": a.jobs, "runs": a.runs,
           "median_s": med, "ratio": ratio, "rss_mib": rss, "targets": TARGETS, "failed": failed,
           "rows": rows}
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    md = ("| upload of %d MiB (parts of %d MiB, %d at a time) | median of %d | vs floor | peak RSS |\n"
          "| --- | --- | --- | --- |\n"
          "| sha256 + curl to the storage (floor) | %.2f s | 1.00x | |\n"
          "| hf-upload | %.2f s | %.2fx (target %.1fx) | %.1f MiB (target < %d MiB) |\n" % (
              a.size, a.part_size, a.jobs, a.runs, med["floor"], med["hf-upload"], ratio,
              TARGETS["upload_vs_floor"], rss, TARGETS["rss_mib"]))
    with open(os.path.join(a.work, "results.md"), "w") as f:
        f.write(md)
    print(md)
    missed = [m for m, bad in (("ratio", ratio > TARGETS["upload_vs_floor"]),
                               ("rss", rss >= TARGETS["rss_mib"])) if bad]
    for f in failed:
        print("FAILED: " + f)
    if missed:
        print("target missed: " + ", ".join(missed))
    return 1 if failed or missed else 0


def hub_has(fx, repo, sha, size):
    try:
        f = fx.files_at(repo)[os.path.basename("big.safetensors")]
    except KeyError:
        return False
    return f["lfs"] and f["sha256"] == sha and f["size"] == size


if __name__ == "__main__":
    sys.exit(main())
