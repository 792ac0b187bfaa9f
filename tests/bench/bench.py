#!/usr/bin/env python3
"""`make bench`: hf-fetch against the hash and transfer floors, curl and @huggingface/hub.

Cases (--cases), served on loopback only:
  big    one LFS file (1 GiB by default): the Hub (tests/bench/benchhub.py, the fixture
         Hub unchanged plus a file-backed blob) answers the API and the 302; nginx serves
         the bytes as the CDN (sendfile, keepalive).
  mid    one 64 MiB LFS file the same way: hf-fetch's peak RSS against file size.
  small  300 regular 8 KiB files, every answer from the Python fixture Hub.
  small-front  the same files with nginx in front of the hub: nginx answers their
         /api/resolve-cache/ URLs from disk (with the hub's ETag and X-Repo-Commit) and
         proxies everything else (API, the 307s) to the hub, so that the Python hub's
         share of the work drops by half.
  listing  `hf-list` of a 100,000-file repository (100,100 entries with the folders, 101
         pages), TSV and JSON: peak RSS against the 32 MiB target (issue 13).
  hit    the big file's snapshot already present (fetched once, untimed): a cache hit, the
         same offline and in a local folder, and with --verify (which hashes it again).
  hit4   the same with ten LFS files, 4 GiB in all (--ten-size each): a hit must not
         grow with the bytes present.

The big case also has the local folder, both sync modes, and `curl -o FILE` to the same
file system (transfer and write, no verification): the peer of a first fetch.

Each tool runs in a fresh output folder, round-robin (round 1: every tool, round 2: ...),
so a change in machine load touches all of them alike. Wall time by perf_counter, CPU and
peak RSS by GNU time (wait4() of the command). Nothing is dropped from the page cache:
every input is cached, which favours all tools equally. `sync` runs before each measurement (untimed) so
that one run's dirty pages are not written back during the next.

Writes build/bench/results.json and build/bench/results.md, and prints the summary.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
import hub  # noqa: E402  (generated_bytes, git_blob_sha1: the same content the hub serves)

GiB = 1 << 30
MiB = 1 << 20
BIG_REPO, MID_REPO, SMALL_REPO = "bench/big-lfs", "bench/mid-lfs", "bench/small-files"
LIST_REPO, LIST_FILES = "bench/huge-listing", 100000
TEN_REPO = "bench/ten-lfs"
HFJS_VERSION = "2.17.5"
TARGETS = {"big_vs_hash": 1.25, "small_vs_hfjs": 5.0, "small_vs_curl": 3.0, "rss_mib": 32.0,
           "list_rss_mib": 32.0, "first_vs_curl_file": 1.10, "tmpfs_vs_hash": 1.15, "hit_s": 0.05,
           "hit4_vs_hit": 1.2}


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def out_of(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _die_with_parent():
    """preexec_fn: the servers get SIGTERM when bench.py dies, however it dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def proc_cpu(pid):
    """utime+stime of a process and its reaped children, seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


# --------------------------------------------------------------------------
# Data


def make_blob(path, size, password):
    """`size` pseudo-random bytes (AES-CTR keystream, deterministic), once; and its sha256."""
    stamp = path + ".sha256"
    if os.path.exists(path) and os.path.getsize(path) == size and os.path.exists(stamp):
        st = os.stat(path)
        with open(stamp) as f:
            parts = f.read().split()
        if len(parts) == 3 and parts[0] == str(size) and parts[1] == str(int(st.st_mtime)):
            return parts[2]
    log("generating %s (%d bytes)" % (os.path.relpath(path, ROOT), size))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        enc = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-pass", "pass:" + password,
                                "-nosalt", "-pbkdf2"], stdin=open("/dev/zero", "rb"),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        left = size
        while left:
            b = enc.stdout.read(min(left, 4 * MiB))
            if not b:
                raise RuntimeError("openssl enc stopped early")
            f.write(b)
            left -= len(b)
        enc.kill()
        enc.wait()
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    dg = out_of(["openssl", "dgst", "-sha256", "-r", path]).split()[0]
    with open(stamp, "w") as f:
        f.write("%d %d %s\n" % (size, int(os.stat(path).st_mtime), dg))
    return dg


def small_files(count, size):
    """path -> content, exactly what the hub generates for the small repository."""
    return {"files/f%03d.bin" % i: hub.generated_bytes(size, "bench-small-%d" % i)
            for i in range(count)}


def write_hub_data(d, big, mid, small, count, size, ten):
    os.makedirs(os.path.join(d, "repos"), exist_ok=True)
    with open(os.path.join(d, "tokens.json"), "w") as f:
        json.dump({"tokens": {}, "users": {}}, f)
    date = "2024-06-01T12:00:00Z"

    def lfs_repo(rid, *blobs):
        return {"id": rid, "commits": [{"id": "c1", "date": date, "message": "Add the blobs",
                                        "files": {os.path.basename(path): {
                                            "file": path, "size": sz, "sha256": sha, "lfs": True}
                                            for path, sz, sha in blobs}}]}
    repos = [lfs_repo(BIG_REPO, big), lfs_repo(MID_REPO, mid), lfs_repo(TEN_REPO, *ten),
             {"id": SMALL_REPO, "commits": [{"id": "c1", "date": date, "message": "Add small files",
                                             "files": {"files/f%03d.bin" % i: {
                                                 "size": size, "seed": "bench-small-%d" % i}
                                                 for i in range(count)}}]},
             {"id": LIST_REPO, "commits": [{"id": "c1", "date": date, "message": "Many files",
                                            "generate": [{"count": LIST_FILES, "group": 1000,
                                                          "pattern": "part-{g:03d}/f{i:06d}.txt",
                                                          "text": "file {i}\n"}]}]}]
    with open(os.path.join(d, "repos", "bench.json"), "w") as f:
        json.dump(repos, f, indent=1)


# --------------------------------------------------------------------------
# Servers

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ }}
    default_type binary/octet-stream;
{maps}
    # the CDN: LFS blobs by sha256 (the signed query is ignored)
    server {{
        listen 127.0.0.1:{cdn_port};
        server_name localhost;
        location /lfs/ {{
            alias {blobs}/;
        }}
    }}
{front}
}}
"""

FRONT_CONF = """\
    # the "front" Hub endpoint: resolve-cache answers of the small repository from disk,
    # everything else proxied to the Python fixture Hub
    upstream fixture_hub {{
        server 127.0.0.1:{hub_port};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{front_port};
        server_name 127.0.0.1;
        location {rc_prefix} {{
            alias {rc_dir}/;
            etag off;
            default_type application/octet-stream;
            add_header X-Repo-Commit {commit} always;
            add_header ETag $bench_etag always;
        }}
        location / {{
            proxy_pass http://fixture_hub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_request_buffering off;
        }}
    }}
"""


class Servers:
    def __init__(self, work, hub_data, blobs, small, small_commit):
        self.work, self.procs = work, []
        ndir = os.path.join(work, "nginx")
        shutil.rmtree(ndir, ignore_errors=True)
        for t in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(ndir, "tmp", t))
        self.cdn_port = free_port()
        self.cdn = "http://localhost:%d" % self.cdn_port
        # the hub first (its port goes into the nginx front's proxy_pass)
        hp = subprocess.Popen([sys.executable, os.path.join(HERE, "benchhub.py"), "--data", hub_data,
                               "--cdn-base", self.cdn], stdout=subprocess.PIPE, text=True,
                              preexec_fn=_die_with_parent)
        self.procs.append(hp)
        self.hub_pid = hp.pid
        line = hp.stdout.readline().strip()
        if not line.startswith("HF_ENDPOINT="):
            raise RuntimeError("the bench hub did not start")
        self.hub_endpoint = line.split("=", 1)[1]
        hub_port = int(self.hub_endpoint.rsplit(":", 1)[1])
        # the small repository's resolve-cache answers, on disk for the nginx front
        rc_dir = os.path.join(work, "resolve-cache")
        shutil.rmtree(rc_dir, ignore_errors=True)
        prefix = "/api/resolve-cache/models/%s/%s/" % (SMALL_REPO, small_commit)
        lines = []
        for p, data in small.items():
            fp = os.path.join(rc_dir, p)
            os.makedirs(os.path.dirname(fp), exist_ok=True)
            with open(fp, "wb") as f:
                f.write(data)
            lines.append('        %s "\\"%s\\"";' % (prefix + p, hub.git_blob_sha1(data)))
        maps = "    map_hash_bucket_size 256;\n    map_hash_max_size 8192;\n"
        maps += "    map $uri $bench_etag {\n        default \"\";\n%s\n    }\n" % "\n".join(lines)
        front_port = free_port()
        frontconf = FRONT_CONF.format(front_port=front_port, rc_prefix=prefix, rc_dir=rc_dir,
                                      commit=small_commit, hub_port=hub_port)
        self.front_endpoint = "http://127.0.0.1:%d" % front_port
        conf = os.path.join(ndir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=ndir, cdn_port=self.cdn_port, blobs=blobs, maps=maps,
                                      front=frontconf))
        np_ = subprocess.Popen(["nginx", "-p", ndir, "-c", conf, "-e", os.path.join(ndir, "error.log")],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(ndir, "stderr"), "w"),
                               preexec_fn=_die_with_parent)
        self.procs.append(np_)
        self.nginx_pid = np_.pid
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.cdn_port), 0.2).close()
                break
            except OSError:
                if np_.poll() is not None:
                    raise RuntimeError("nginx did not start: %s" % open(os.path.join(ndir, "stderr")).read())
                time.sleep(0.05)
        self.nginx_worker = None
        for _ in range(50):
            kids = out_of(["pgrep", "-P", str(np_.pid)]).split()
            if kids:
                self.nginx_worker = int(kids[0])
                break
            time.sleep(0.05)

    def cpu(self):
        return {"hub": proc_cpu(self.hub_pid),
                "nginx": proc_cpu(self.nginx_worker) if self.nginx_worker else 0.0}

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if p.pid == self.hub_pid else signal.SIGQUIT)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --------------------------------------------------------------------------
# Measuring


TIME = "/usr/bin/time"


def measure(cmd, env, servers):
    """Wall time (perf_counter), CPU and peak RSS (GNU time, from wait4() of the command: the
    rusage of Python's own child would count the forked interpreter's RSS), server CPU."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as tf:
        before = servers.cpu()
        t0 = time.perf_counter()
        p = subprocess.Popen([TIME, "-o", tf.name, "-f", "%M %U %S %x"] + cmd, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        p.wait()
        wall = time.perf_counter() - t0
        after = servers.cpu()
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
        tf.seek(0)
        last = (tf.read().strip().splitlines() or [""])[-1].split()
    try:
        rss, user, sys_, rc = int(last[0]), float(last[1]), float(last[2]), int(last[3])
    except (IndexError, ValueError):
        rss, user, sys_, rc = 0, 0.0, 0.0, p.returncode or 1
    return {"wall": wall, "cpu": user + sys_, "user": user, "sys": sys_, "rss_kib": rss, "rc": rc,
            "stderr": tail, "hub_cpu": after["hub"] - before["hub"],
            "nginx_cpu": after["nginx"] - before["nginx"]}


def snapshot_root(cache, repo):
    d = os.path.join(cache, "models--" + repo.replace("/", "--"), "snapshots")
    subs = os.listdir(d) if os.path.isdir(d) else []
    return os.path.join(d, subs[0]) if len(subs) == 1 else None


def check_big(root, name, size, sha, full):
    p = os.path.join(root or "", name)
    if not root or not os.path.exists(p) or os.path.getsize(p) != size:
        return "missing or wrong size: %s" % p
    if full and out_of(["openssl", "dgst", "-sha256", "-r", p]).split()[0] != sha:
        return "wrong sha256: %s" % p
    return None


def check_small(root, small):
    if not root:
        return "no snapshot folder"
    for p, data in small.items():
        try:
            with open(os.path.join(root, p), "rb") as f:
                if f.read() != data:
                    return "wrong content: %s" % p
        except OSError as e:
            return str(e)
    return None


def build_kind(bin_dir):
    """Which build is measured: the shipped static one (its libraries) or a development build."""
    verbose = out_of([os.path.join(bin_dir, "hf-fetch"), "--version", "--verbose"])
    built = [l for l in verbose.split("\n") if l.startswith("built from:")]
    return ("static build, " + built[0]) if built else "development build (dynamically linked)"


def summarize(runs):
    ok = [r for r in runs if r["rc"] == 0 and not r.get("bad")]
    if not ok:
        return None
    w = [r["wall"] for r in ok]
    return {"n": len(ok), "failed": len(runs) - len(ok), "median": statistics.median(w), "min": min(w),
            "max": max(w), "cpu": statistics.median(r["cpu"] for r in ok),
            "rss_mib": max(r["rss_kib"] for r in ok) / 1024.0,
            "hub_cpu": statistics.median(r["hub_cpu"] for r in ok),
            "nginx_cpu": statistics.median(r["nginx_cpu"] for r in ok)}


def run_case(name, tools, rounds, servers, results):
    """tools: [(label, prepare() -> (cmd, env, check() -> error or None, cleanup()))]."""
    log("case %s: %d rounds of %s (load %s)" % (name, rounds, ", ".join(t[0] for t in tools), loadavg()))
    case = results.setdefault(name, {})
    case.setdefault("tools", {})
    case.setdefault("load", [])
    for r in range(rounds):
        case["load"].append(loadavg())
        for label, prepare in tools:
            cmd, env, check, cleanup = prepare(r)
            os.sync()
            m = measure(cmd, env, servers)
            if m["rc"] == 0 and check:
                bad = check(r)
                if bad:
                    m["bad"] = bad
            if m["rc"] != 0 or m.get("bad"):
                log("  %s round %d FAILED (rc %d) %s %s" % (label, r + 1, m["rc"], m.get("bad", ""),
                                                         m["stderr"].strip()[-500:]))
            else:
                log("  %-28s round %d: %7.3f s wall, %6.3f s cpu, %6.1f MiB RSS, hub cpu %.2f s, nginx cpu %.2f s"
                    % (label, r + 1, m["wall"], m["cpu"], m["rss_kib"] / 1024.0, m["hub_cpu"], m["nginx_cpu"]))
            m["stderr"] = m["stderr"][-300:]
            m["cmd"] = cmd
            case["tools"].setdefault(label, []).append(m)
            if cleanup:
                cleanup()
    case["load"].append(loadavg())


# --------------------------------------------------------------------------


def ensure_hfjs(work, skip):
    """The pinned @huggingface/hub in WORK/node_modules, or None (with the reason logged)."""
    if skip:
        return None
    if not shutil.which("node") or not shutil.which("npm"):
        log("node/npm missing: @huggingface/hub rows skipped")
        return None
    nm = os.path.join(work, "node_modules")
    pj = os.path.join(nm, "@huggingface", "hub", "package.json")
    try:
        with open(pj) as f:
            if json.load(f)["version"] == HFJS_VERSION:
                return nm
    except (OSError, ValueError, KeyError):
        pass
    with open(os.path.join(work, "package.json"), "w") as f:
        json.dump({"name": "hf-fetch-bench", "private": True,
                   "dependencies": {"@huggingface/hub": HFJS_VERSION}}, f, indent=1)
    log("npm install @huggingface/hub@%s into %s" % (HFJS_VERSION, os.path.relpath(nm, ROOT)))
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--save-exact",
                        "@huggingface/hub@" + HFJS_VERSION], cwd=work)
    if r.returncode != 0 or not os.path.exists(pj):
        log("npm install failed: @huggingface/hub rows skipped")
        return None
    return nm


def machine_facts(bin_dir, nm):
    cpu = ""
    for line in out_of(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    flags = open("/proc/cpuinfo").read()
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    hfjs = ""
    if nm:
        with open(os.path.join(nm, "@huggingface", "hub", "package.json")) as f:
            hfjs = json.load(f)["version"]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(), "mem": mem,
        "sha_ni": " sha_ni " in flags.replace("\n", " "),
        "virt": out_of(["systemd-detect-virt"]) or "?",
        "fs": out_of(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", ROOT]),
        "hf_fetch": "%s, %s" % (out_of([os.path.join(bin_dir, "hf-fetch"), "--version"]), build_kind(bin_dir)),
        "git": out_of(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
        "curl": out_of(["curl", "--version"]).split("\n")[0],
        "openssl": out_of(["openssl", "version"]),
        "nginx": (subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()),
        "node": out_of(["node", "--version"]), "hfjs": hfjs, "python": platform.python_version(),
        "uptime": out_of(["uptime"]),
    }


def fmt_s(x):
    return "%.3f" % x if x is not None else "n/a"


def report(res, facts, args, targets):
    S = {c: {t: summarize(runs) for t, runs in res[c]["tools"].items()} for c in res}

    def med(c, t):
        s = S.get(c, {}).get(t)
        return s["median"] if s else None

    def ratio(a, b):
        return a / b if a and b else None
    HF, TMP = "hf-fetch", "hf-fetch, output on tmpfs"
    DIR, CURLF, HIT = "hf-fetch --local-dir", "curl -o FILE", "hf-fetch, all present"
    HASH, XFER = "openssl dgst -sha256 (hash floor)", "curl -o /dev/null (transfer floor)"
    JS, LOOP = "@huggingface/hub snapshotDownload", "curl -L loop"
    # (key, text, numerator, denominator, target key or None, higher is better)
    spec = [("big_vs_hash", "big: hf-fetch / hash floor", ("big", HF), ("big", HASH), "big_vs_hash", False),
            ("big_vs_xfer", "big: hf-fetch / transfer floor", ("big", HF), ("big", XFER), None, False),
            ("cache_vs_curl_file", "big: hf-fetch (cache) / curl -o FILE", ("big", HF), ("big", CURLF),
             "first_vs_curl_file", False),
            ("dir_vs_curl_file", "big: hf-fetch --local-dir / curl -o FILE", ("big", DIR), ("big", CURLF),
             "first_vs_curl_file", False),
            ("cache_never_vs_curl_file", "big: hf-fetch --sync never (cache) / curl -o FILE",
             ("big", HF + " --sync never"), ("big", CURLF), None, False),
            ("dir_always_vs_curl_file", "big: hf-fetch --local-dir --sync always / curl -o FILE",
             ("big", DIR + " --sync always"), ("big", CURLF), None, False),
            ("cache_vs_dir", "big: hf-fetch (cache) / hf-fetch --local-dir", ("big", HF), ("big", DIR),
             None, False),
            ("tmpfs_vs_hash", "big: hf-fetch on tmpfs / hash floor (second target)", ("big", TMP),
             ("big", HASH), "tmpfs_vs_hash", False),
            ("hit4_vs_hit", "hit: 10 files, 4 GiB / 1 file, 1 GiB (cache hit)", ("hit4", HIT), ("hit", HIT),
             "hit4_vs_hit", False),
            ("hit_verify_vs_hit", "hit: --verify / trusted (1 GiB)", ("hit", HIT + " --verify"), ("hit", HIT),
             None, False),
            ("big_hfjs_vs_fetch", "big: @huggingface/hub / hf-fetch", ("big", JS), ("big", HF), None, True)]
    for c in ("small", "small-front"):
        spec += [("%s_vs_hfjs" % c, "%s: @huggingface/hub / hf-fetch" % c, (c, JS), (c, HF), "small_vs_hfjs", True),
                 ("%s_vs_curl" % c, "%s: curl loop / hf-fetch" % c, (c, LOOP), (c, HF), "small_vs_curl", True),
                 ("%s_tmpfs_vs_hfjs" % c, "%s: @huggingface/hub / hf-fetch on tmpfs" % c, (c, JS), (c, TMP),
                  "small_vs_hfjs", True),
                 ("%s_tmpfs_vs_curl" % c, "%s: curl loop / hf-fetch on tmpfs" % c, (c, LOOP), (c, TMP),
                  "small_vs_curl", True)]
    r = {}
    for key, _, num, den, _, _ in spec:
        r[key] = ratio(med(*num), med(*den))
    # the floor of a verified download is both floors at once: on 2 cores the hash of every byte
    # (one thread, it cannot be split) runs beside the receive and write that curl -o FILE does
    big = S.get("big", {})
    if big.get(HF) and big.get(CURLF) and big.get(HASH):
        r["cache_vs_both_floors"] = big[HF]["median"] / max(big[CURLF]["median"], big[HASH]["median"])
        r["cache_cpu_vs_curl_and_hash"] = big[HF]["cpu"] / (big[CURLF]["cpu"] + big[HASH]["cpu"])
    rss = [s["rss_mib"] for c in S for t, s in S[c].items() if s and t.startswith("hf-fetch")]
    r["rss_mib"] = max(rss) if rss else None

    L = []
    L.append("Command: `%s`" % args.command_line)
    L.append("")
    L.append("Machine: %s, %s cores, %s RAM, %s (sha_ni: %s), kernel %s, virt %s; output on %s."
             % (facts["cpu"], facts["cores"], facts["mem"], "x86_64", "yes" if facts["sha_ni"] else "no",
                facts["kernel"], facts["virt"], facts["fs"]))
    L.append("Versions: %s (git %s%s, binary sha256 %s...); %s; %s; %s; node %s; @huggingface/hub %s; Python %s."
             % (facts["hf_fetch"], facts["git"], ", src/ or tools/ modified" if facts.get("git_dirty") else "",
                facts.get("hf_fetch_sha256", "?"), facts["curl"], facts["openssl"], facts["nginx"],
                facts["node"], facts["hfjs"] or "n/a", facts["python"]))
    L.append("Started %s; `uptime` at start: `%s`." % (facts["date"], facts["uptime"]))
    for c in res:
        L.append("")
        L.append("### %s" % res[c]["title"])
        L.append("")
        L.append("Load average (1/5/15 min) before each round: %s; after: %s."
                 % ("; ".join(res[c]["load"][:-1]), res[c]["load"][-1]))
        L.append("")
        L.append("| tool | runs | median s | min s | max s | median CPU s | peak RSS MiB | hub CPU s | nginx CPU s | each run, s |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for t in res[c]["tools"]:
            s = S[c][t]
            if not s:
                L.append("| %s | 0 (all %d failed) | | | | | | | | |" % (t, len(res[c]["tools"][t])))
                continue
            each = " ".join("%.2f" % m["wall"] if m["rc"] == 0 and not m.get("bad") else "fail"
                            for m in res[c]["tools"][t])
            L.append("| %s | %d%s | %.3f | %.3f | %.3f | %.3f | %.1f | %.2f | %.2f | %s |"
                     % (t, s["n"], " (+%d failed)" % s["failed"] if s["failed"] else "", s["median"], s["min"],
                        s["max"], s["cpu"], s["rss_mib"], s["hub_cpu"], s["nginx_cpu"], each))
    L.append("")
    L.append("### Ratios against the targets (medians)")
    L.append("")
    L.append("| measure | value | target | |")
    L.append("| --- | ---: | ---: | --- |")

    for key, text, _, _, tkey, hb in spec:
        v = r.get(key)
        if v is None:
            continue
        if tkey:
            t = targets[tkey]
            ok = v >= t if hb else v <= t
            L.append("| %s | %.2fx | %s %.2fx | %s |" % (text, v, ">=" if hb else "<=", t, "met" if ok else "MISSED"))
        else:
            L.append("| %s | %.2fx | | |" % (text, v))
    for key, text in (("cache_vs_both_floors", "big: hf-fetch (cache) / the larger of curl -o FILE and "
                       "the hash floor (wall)"),
                      ("cache_cpu_vs_curl_and_hash", "big: hf-fetch (cache) CPU / curl -o FILE CPU + hash "
                       "floor CPU")):
        if r.get(key) is not None:
            L.append("| %s | %.2fx | | |" % (text, r[key]))
    for c in ("hit", "hit4"):
        v = med(c, HIT)
        if v is not None:
            r[c + "_s"] = v
            L.append("| %s: hf-fetch, all present (median s) | %.3f s | <= %.2f s | %s |"
                     % (c, v, targets["hit_s"], "met" if v <= targets["hit_s"] else "MISSED"))
    v = r["rss_mib"]
    L.append("| peak RSS of hf-fetch, any case | %s | < 32 MiB | %s |"
             % ("%.1f MiB" % v if v else "n/a", "n/a" if v is None else ("met" if v < 32 else "MISSED")))
    for fmt in ("tsv", "json"):
        s = S.get("listing", {}).get("hf-list -f " + fmt)
        if s:
            r["list_rss_mib_" + fmt] = s["rss_mib"]
            t = targets["list_rss_mib"]
            L.append("| peak RSS of hf-list -f %s, %d files | %.1f MiB | <= %.0f MiB | %s |"
                     % (fmt, LIST_FILES, s["rss_mib"], t, "met" if s["rss_mib"] <= t else "MISSED"))
    return "\n".join(L) + "\n", r, S


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "bin"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--size", type=int, default=GiB, help="bytes of the big LFS file (default 1 GiB)")
    ap.add_argument("--mid-size", type=int, default=64 * MiB, help="a middle LFS file, for RSS vs size")
    ap.add_argument("--small-count", type=int, default=300)
    ap.add_argument("--small-size", type=int, default=8192)
    ap.add_argument("--ten-size", type=int, default=4 * GiB // 10,
                    help="bytes of each of the ten LFS files of the hit4 case")
    ap.add_argument("--runs", type=int, default=5, help="rounds per case (default 5)")
    ap.add_argument("--runs-big", type=int, default=None)
    ap.add_argument("--runs-hfjs-big", type=int, default=None,
                    help="rounds of @huggingface/hub in the big case (default: all)")
    ap.add_argument("--cases", default="big,mid,small,small-front,hit,hit4,listing")
    ap.add_argument("--no-hfjs", action="store_true")
    ap.add_argument("--out-dir", default=None, help="where tools write (default WORK/out)")
    ap.add_argument("--serve", action="store_true",
                    help="only start the hub and nginx, print HF_ENDPOINT and the CDN URLs, wait for ^C")
    ap.add_argument("--tmpfs", default="/dev/shm", help="for the hf-fetch-on-tmpfs row ('' to skip)")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # so that `finally` stops the servers
    a.command_line = os.environ.get("BENCH_COMMAND") or " ".join(["python3"] + sys.argv)
    cases = a.cases.split(",")
    work = os.path.abspath(a.work)
    os.makedirs(os.path.join(work, "data"), exist_ok=True)
    outdir = os.path.abspath(a.out_dir or os.path.join(work, "out"))
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    # a copy, so that a rebuild of bin/ during the run cannot mix two binaries in one table
    hf_fetch, hf_list = os.path.join(work, "hf-fetch"), os.path.join(work, "hf-list")
    for b in (hf_fetch, hf_list):
        shutil.copy2(os.path.join(a.bin, os.path.basename(b)), b + ".tmp")
        os.replace(b + ".tmp", b)
    nm = ensure_hfjs(work, a.no_hfjs)
    facts = machine_facts(work, nm)
    with open(hf_fetch, "rb") as f:
        facts["hf_fetch_sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
    facts["git_dirty"] = bool(out_of(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "tools"]))

    big_path = os.path.join(work, "data", "big.bin")
    mid_path = os.path.join(work, "data", "mid.bin")
    big_sha = make_blob(big_path, a.size, "hf-fetch-bench-big")
    mid_sha = make_blob(mid_path, a.mid_size, "hf-fetch-bench-mid")
    blobs = os.path.join(work, "blobs")
    shutil.rmtree(blobs, ignore_errors=True)
    os.makedirs(blobs)
    ten = []
    if "hit4" in cases:
        for i in range(10):
            tp = os.path.join(work, "data", "ten-%02d.bin" % i)
            ten.append((tp, a.ten_size, make_blob(tp, a.ten_size, "hf-fetch-bench-ten-%d" % i)))
    for p, sha in [(big_path, big_sha), (mid_path, mid_sha)] + [(t[0], t[2]) for t in ten]:
        os.link(p, os.path.join(blobs, sha))
    small = small_files(a.small_count, a.small_size)
    hub_data = os.path.join(work, "hub")
    shutil.rmtree(hub_data, ignore_errors=True)
    write_hub_data(hub_data, (big_path, a.size, big_sha), (mid_path, a.mid_size, mid_sha), small,
                   a.small_count, a.small_size, ten)
    small_commit = hub.Store(hub_data).commit_of(SMALL_REPO)
    srv = Servers(work, hub_data, blobs, small, small_commit)
    log("hub %s, nginx front %s, CDN nginx %s" % (srv.hub_endpoint, srv.front_endpoint, srv.cdn))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_ENDPOINT": srv.hub_endpoint, "HF_HOME": os.path.join(work, "home"),
                "HF_HUB_DISABLE_TELEMETRY": "1", "NO_PROXY": "*", "no_proxy": "*"})
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    if a.serve:
        sys.stdout.write("HF_ENDPOINT=%s\nBIG_URL=%s/lfs/%s\nMID_URL=%s/lfs/%s\nHUB_PID=%d\n"
                         % (srv.hub_endpoint, srv.cdn, big_sha, srv.cdn, mid_sha, srv.hub_pid))
        sys.stdout.flush()
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM])
            signal.sigwait([signal.SIGINT, signal.SIGTERM])
        finally:
            srv.stop()
        return 0
    env_front = dict(env, HF_ENDPOINT=srv.front_endpoint)
    hfjs = [shutil.which("node") or "node", os.path.join(HERE, "hfjs.cjs"), nm or ""]
    results = {}
    counter = [0]

    def fresh(base=outdir):
        counter[0] += 1
        d = os.path.join(base, "run-%03d" % counter[0])
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    tmpdir = os.path.join(a.tmpfs, "hf-fetch-bench-%d" % os.getpid()) if a.tmpfs else None

    def tmpfs_ok(need):
        if not tmpdir or not os.path.isdir(a.tmpfs) or shutil.disk_usage(a.tmpfs).free <= need:
            return False
        os.makedirs(tmpdir, exist_ok=True)
        return True

    def rm(d):
        return lambda: shutil.rmtree(d, ignore_errors=True)

    try:
        # warm-up, untimed: one tiny fetch each way (first-connection and lazy hub costs)
        d = fresh()
        subprocess.run([hf_fetch, "-q", "--cache-dir", d, SMALL_REPO, "files/f000.bin"], env=env,
                       stdout=subprocess.DEVNULL, check=True)
        shutil.rmtree(d)
        blob_url = "%s/lfs/%s" % (srv.cdn, big_sha)
        mid_url = "%s/lfs/%s" % (srv.cdn, mid_sha)

        def lfs_tools(repo, name, size, sha, url, hfjs_rounds):
            def hff(base, extra=()):
                def prep(r):
                    d = fresh(base)
                    return ([hf_fetch, "-q", "--cache-dir", d] + list(extra) + [repo], env,
                            lambda r: check_big(snapshot_root(d, repo), name, size, sha, r == 0), rm(d))
                return prep
            def folder(extra=()):
                def prep(r):
                    d = fresh()
                    return ([hf_fetch, "-q", "--local-dir", d] + list(extra) + [repo], env,
                            lambda r: check_big(d, name, size, sha, r == 0), rm(d))
                return prep

            def curl_file(r):
                d = fresh()
                return (["curl", "-sSf", "-o", os.path.join(d, name), url], env,
                        lambda r: check_big(d, name, size, sha, False), rm(d))
            t = [("hf-fetch", hff(outdir))]
            if tmpfs_ok(2 * size):
                t.append(("hf-fetch, output on tmpfs", hff(tmpdir)))
            if repo == BIG_REPO:
                t += [("hf-fetch --sync never", hff(outdir, ["--sync", "never"])),
                      ("hf-fetch --local-dir", folder()),
                      ("hf-fetch --local-dir --sync always", folder(["--sync", "always"])),
                      ("curl -o FILE", curl_file)]
            t.append(("openssl dgst -sha256 (hash floor)",
                      lambda r: (["openssl", "dgst", "-sha256", os.path.join(blobs, sha)], env, None, None)))
            t.append(("curl -o /dev/null (transfer floor)",
                      lambda r: (["curl", "-sSf", "-o", "/dev/null", url], env, None, None)))
            if nm:
                def hj(r):
                    if hfjs_rounds is not None and r >= hfjs_rounds:
                        return (["true"], env, None, None)
                    d = fresh()
                    return (hfjs + [srv.hub_endpoint, repo, d], env,
                            lambda r: check_big(snapshot_root(d, repo), name, size, sha, r == 0), rm(d))
                t.append(("@huggingface/hub snapshotDownload", hj))
            return t

        if "big" in cases:
            results["big"] = {"title": "One LFS file of %d bytes (%.2f GiB), bytes from nginx" % (a.size, a.size / GiB)}
            run_case("big", lfs_tools(BIG_REPO, "big.bin", a.size, big_sha, blob_url, a.runs_hfjs_big),
                     a.runs_big or a.runs, srv, results)
            tr = results["big"]["tools"].get("@huggingface/hub snapshotDownload")
            if tr and a.runs_hfjs_big is not None:   # drop the skipped rounds (ran `true`)
                results["big"]["tools"]["@huggingface/hub snapshotDownload"] = tr[:a.runs_hfjs_big]
        if "mid" in cases:
            results["mid"] = {"title": "One LFS file of %d MiB (peak RSS against file size)" % (a.mid_size // MiB)}
            run_case("mid", [t for t in lfs_tools(MID_REPO, "mid.bin", a.mid_size, mid_sha, mid_url, None)
                             if t[0] in ("hf-fetch", "openssl dgst -sha256 (hash floor)",
                                         "curl -o /dev/null (transfer floor)")],
                     3, srv, results)
        def hit_tools(repo):
            """Fetched once, untimed; then every round finds it all present."""
            cache, folder = os.path.join(outdir, "hit-cache-" + repo[6:]), os.path.join(outdir, "hit-dir-" + repo[6:])
            for how in (["--cache-dir", cache], ["--local-dir", folder]):
                subprocess.run([hf_fetch, "-q"] + how + [repo], env=env, stdout=subprocess.DEVNULL, check=True)

            def run(how, extra=()):
                return lambda r: ([hf_fetch, "-q"] + how + list(extra) + [repo], env, None, None)
            return [("hf-fetch, all present", run(["--cache-dir", cache])),
                    ("hf-fetch --offline, all present", run(["--cache-dir", cache], ["--offline"])),
                    ("hf-fetch --local-dir, all present", run(["--local-dir", folder])),
                    ("hf-fetch, all present --verify", run(["--cache-dir", cache], ["--verify"]))]

        if "hit" in cases:
            results["hit"] = {"title": "Cache hit: the %.2f GiB file already present" % (a.size / GiB)}
            run_case("hit", hit_tools(BIG_REPO), a.runs, srv, results)
        if "hit4" in cases:
            results["hit4"] = {"title": "Cache hit: ten LFS files of %d bytes (%.2f GiB in all) already present"
                               % (a.ten_size, 10 * a.ten_size / GiB)}
            run_case("hit4", hit_tools(TEN_REPO), a.runs, srv, results)
        lst = os.path.join(work, "small-files.txt")
        with open(lst, "w") as f:
            f.write("".join(p + "\n" for p in small))
        loop = ('set -e; while IFS= read -r p; do curl -sSfL --create-dirs -o "$1/$p" '
                '"$HF_ENDPOINT/%s/resolve/main/$p"; done < "$2"' % SMALL_REPO)

        def small_tools(e):
            def hff(extra=(), base=outdir):
                def prep(r):
                    d = fresh(base)
                    return ([hf_fetch, "-q", "--cache-dir", d] + list(extra) + [SMALL_REPO], e,
                            lambda r: check_small(snapshot_root(d, SMALL_REPO), small), rm(d))
                return prep

            def curl_loop(r):
                d = fresh()
                return (["bash", "-c", loop, "loop", d, lst], e, lambda r: check_small(d, small), rm(d))

            def hj(r):
                d = fresh()
                return (hfjs + [e["HF_ENDPOINT"], SMALL_REPO, d], e,
                        lambda r: check_small(snapshot_root(d, SMALL_REPO), small), rm(d))
            tools = [("hf-fetch", hff()), ("hf-fetch -j 1", hff(["-j", "1"]))]
            if tmpfs_ok(64 * MiB):
                tools.append(("hf-fetch, output on tmpfs", hff(base=tmpdir)))
            tools.append(("curl -L loop", curl_loop))
            if nm:
                tools.append(("@huggingface/hub snapshotDownload", hj))
            return tools

        for name, e, how in (("small", env, "every answer from the Python fixture Hub"),
                             ("small-front", env_front, "nginx in front of the Python hub answers "
                              "the resolve-cache URLs from disk, the hub the API and the 307s")):
            if name in cases:
                results[name] = {"title": "%d regular files of %d bytes: %s" % (
                    a.small_count, a.small_size, how)}
                run_case(name, small_tools(e), a.runs, srv, results)
        if "listing" in cases:
            results["listing"] = {"title": "hf-list of %d files (%d entries with the folders), "
                                           "peak RSS" % (LIST_FILES, LIST_FILES + LIST_FILES // 1000)}

            def hf_list_rows(fmt):
                def check(r):
                    with open(os.path.join(work, "listing." + fmt)) as f:
                        n = sum(1 for _ in f) if fmt == "tsv" else json.load(f)["files"]
                    n = n - 2 if fmt == "tsv" else len(n)
                    return None if n == LIST_FILES else "%d entries listed, not %d" % (n, LIST_FILES)
                return lambda r: (["sh", "-c", '"$1" -q -f "$2" "$3" > "$4"', "sh", hf_list, fmt, LIST_REPO,
                                   os.path.join(work, "listing." + fmt)], env, check, None)
            # untimed: the hub builds the repository on first use
            subprocess.run([hf_list, "-q", "--no-recursive", LIST_REPO], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            run_case("listing", [("hf-list -f tsv", hf_list_rows("tsv")),
                                 ("hf-list -f json", hf_list_rows("json"))], a.runs, srv, results)
    finally:
        srv.stop()
        shutil.rmtree(outdir, ignore_errors=True)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    facts["uptime_end"] = out_of(["uptime"])
    md, ratios, S = report(results, facts, a, TARGETS)
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


if __name__ == "__main__":
    sys.exit(main())
