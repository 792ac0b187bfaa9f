#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from the fixture
Hub's real answers plus hand-made edge cases. Run it again after the fixture changes:

    python3 tests/fuzz/make_seeds.py            # rewrites seed-*, keeps cov-* and regress-*

Only seed-* files are rewritten. regress-* are regression inputs (failures found by
fuzzing, kept for good); cov-* are inputs that fuzzing campaigns found to reach new code
(libFuzzer -merge=1 -use_counters=0 of their corpora), so that short runs start deep.
"""
import glob
import http.client
import json
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
from hub import FixtureHub  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
C40 = "0123456789abcdef0123456789abcdef01234567"


def get(url, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def header(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


class Seeds:
    def __init__(self):
        self.n = {}

    def put(self, target, data, name=None):
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        k = self.n.get(target, 0)
        self.n[target] = k + 1
        fn = "seed-%03d%s" % (k, "-" + name if name else "")
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)


def search_seeds(s, ep):
    """Search answers (target search): the fixture's listing of each type, and edge cases."""
    expand = "&".join("expand=" + f for f in ("pipeline_tag", "library_name", "downloads", "likes",
                                               "lastModified", "private", "gated", "sha", "tags"))
    for rtype, q in [("models", "search=&" + expand), ("models", "search=bert&sort=likes&direction=-1"),
                     ("datasets", "expand=sha&expand=tags&expand=gated"), ("spaces", "expand=sha")]:
        st, hs, body = get("%s/api/%s?%s" % (ep, rtype, q))
        s.put("search", body, rtype)
    s.put("search", b'[{"id":"a","gated":true,"private":null,"downloads":null,"tags":[]}]', "nulls")
    s.put("search", b'[{"id":"a"},{"id":"a"},{"id":"b"}]', "repeat")
    s.put("search", b'[{"id":"a","pipeline_tag":"x\\ty"}]', "tab")


def main():
    for f in glob.glob(os.path.join(CORPUS, "*", "seed-*")):
        os.unlink(f)
    s = Seeds()
    with FixtureHub(page_size=1000) as hub:
        ep = hub.endpoint
        tiny = hub.commit_of("acme/tiny-model")
        # ---- tree pages, repo info, pagination
        pages = []
        for rtype, rid, q in [("models", "acme/tiny-model", "recursive=true&expand=false"),
                              ("models", "acme/tiny-model", "recursive=false&expand=false"),
                              ("datasets", "acme/tiny-dataset", "recursive=true"),
                              ("models", "acme/tiny-model", "recursive=true&expand=true"),
                              ("models", "acme/gated-model", "recursive=true")]:
            st, hs, body = get("%s/api/%s/%s/tree/main?%s" % (ep, rtype, rid, q))
            s.put("tree", body, rid.split("/")[1])
        for rev in ("main", "folder-on-file", "deep", "near"):  # listings no tree can hold
            st, hs, body = get("%s/api/models/acme/clashing-model/tree/%s?recursive=true"
                               % (ep, rev))
            s.put("tree", body, "clash-" + rev)
        hub.page_size = 3
        url = "%s/api/models/acme/tiny-model/tree/%s?recursive=true&expand=false" % (ep, tiny)
        for _ in range(3):
            st, hs, body = get(url)
            link = header(hs, "Link") or ""
            pages.append((link, body))
            s.put("tree", body, "page")
            if link:
                s.put("link", link)
                url = link[1:link.index(">")]
        hub.page_size = 1000
        s.put("api_tree", b"\n" + b"\x1e".join(l.encode() + b"\n" + b for l, b in pages), "3pages")
        s.put("api_tree", b"tokenizer\n[]")
        s.put("api_tree", ("\n<?cursor=a>; rel=\"next\"\n[]\x1e<?cursor=a>; rel=\"next\"\n[]").encode(),
              "repeat")
        s.put("api_tree", ("\n<ftp://127.0.0.1/x>; rel=next\n[]").encode(), "ftp")
        search_seeds(s, ep)
        for rtype, rid in [("models", "acme/tiny-model"), ("spaces", "acme/tiny-space"),
                           ("datasets", "acme/tiny-dataset"), ("models", "acme/gated-model")]:
            st, hs, body = get("%s/api/%s/%s/revision/main" % (ep, rtype, rid))
            s.put("api_info", b"main\n" + (header(hs, "X-Repo-Commit") or "").encode() + b"\n" + body,
                  rid.split("/")[1])
        st, hs, body = get("%s/api/models/acme/tiny-model/revision/%s" % (ep, tiny))
        s.put("api_info", ("%s\n%s\n" % (tiny, tiny)).encode() + body, "by-commit")
        s.put("api_info", b"main\n\n{\"sha\": \"" + C40.encode() + b"\", \"cardData\": [1]}")
        s.put("api_info", b"main\n\n[]")
        # ---- errors and headers
        for path, hdrs in [("/api/models/acme/private-model", {}),
                           ("/api/models/acme/private-model", {"Authorization": "Bearer fixture-token-bob"}),
                           ("/api/models/acme/gated-listing-model", {}),
                           ("/acme/gated-model/resolve/main/model.safetensors",
                            {"Authorization": "Bearer fixture-token-bob"}),
                           ("/api/models/acme/disabled-model", {}),
                           ("/api/models/acme/tiny-model/revision/nope", {}),
                           ("/acme/tiny-model/resolve/main/nope.txt", {}),
                           ("/api/models/acme/tiny-model", {"Authorization": "Bearer wrong"})]:
            st, hs, body = get(ep + path, hdrs)
            s.put("hub_error", "%d\n%s\n%s\n%s\n%s\n" % (
                st, header(hs, "X-Error-Code") or "-", header(hs, "X-Error-Message") or "-",
                "Root=1-00000000-000000000000000000000000", "nope.txt" if "resolve" in path else "-")
                  + body.decode())
            s.put("headers", "HTTP/1.1 %d X\n" % st + "\n".join("%s: %s" % kv for kv in hs) + "\n")
        hub.add_fault({"repo": "acme/tiny-model", "kind": "status", "status": 429, "retry_after": 3,
                       "ratelimit_t": 55, "times": 1})
        st, hs, body = get(ep + "/api/models/acme/tiny-model")
        hub.clear_faults()
        s.put("hub_error", "429\n-\n%s\n-\n-\n" % header(hs, "X-Error-Message") + body.decode())
        s.put("headers", "HTTP/1.1 429 Too Many\n" + "\n".join("%s: %s" % kv for kv in hs) + "\n")
        s.put("retry", b"\x00" + ("%s\n%s" % (header(hs, "Retry-After"), header(hs, "RateLimit"))).encode())
        for path in ["/acme/tiny-model/resolve/main/model.safetensors",
                     "/acme/tiny-model/resolve/main/config.json"]:
            st, hs, body = get(ep + path)
            s.put("headers", "HTTP/1.1 %d X\n" % st + "\n".join("%s: %s" % kv for kv in hs) + "\n")
        st, hs, body = get(hub.cdn_url(hub.files_at("acme/tiny-model")["model.safetensors"]["sha256"]),
                           {"Range": "bytes=10-"})
        s.put("headers", "HTTP/1.1 %d X\n" % st + "\n".join("%s: %s" % kv for kv in hs) + "\n")
        s.put("headers", "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 12\n"
                         "content-length: -5\nETag:  \t\"abc\" \t\nX-Error-Message: a\x01b\x7fc\n")
        # ---- model cards: every README of the fixture
        for (rtype, rid), r in sorted(hub.store.repos.items()):
            if r.renamed_to:
                continue
            r.build()
            c = r.resolve(r.default_branch)
            f = c.files.get("README.md")
            if f is not None:
                s.put("card", f.blob.data(), rid.split("/")[1])
        # ---- paths
        for p in sorted(hub.files_at("acme/tiny-model"))[:20]:
            s.put("pathsafe", p)
    s.put("hub_error", '500\n-\n-\n-\n-\n{"errors": [{"message": "first"}, {"message": 2}]}')
    s.put("hub_error", "302\n-\n-\n-\n-\n")
    for h in ['<https://huggingface.co/api/models/x/tree/main?cursor=abc>; rel="next"',
              '<a>; rel="prev", <b>; rel="prev next"; title="x, y"',
              '<a>; REL=NEXT', '<>; rel=next', '<a>; rel="nex\\"t"; rel=next', ' , <a> ; rel = next ,']:
        s.put("link", h)
    for rel in ["../x", "a/../b", "/etc/passwd", "a\\b", "ctl\x01x", "a//b", "a/", ".", "..", "...",
                "a/.hidden", "caf\xe9", "\u00e9/\u4e2d\u6587", "\U0001f600.txt", "x" * 256, "a/" * 2100]:
        s.put("pathsafe", rel.encode("utf-8", "surrogatepass"))
    for raw in [b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"ok\xff"]:
        s.put("pathsafe", raw)
    for line in ["acme/tiny-model\nmain\nconfig.json\n", "gpt2\nrefs/pr/1\nsub dir/file.txt\nhttp://127.0.0.1:8765/",
                 "a-b.c_d/E\nv1.0\n%2e%2e/x\nhttps://hub.example:8443/mirror/",
                 "acme/tiny\n" + C40 + "\na?b#c\nhttp://[::1]:80",
                 "x\nfeature/long-context\nd/\xe9\nhttp://user@host/", "-a\n@{u}\n\nftp://x",
                 "a" * 97 + "\nmain\nx\n", "o/n\nrefs/heads/x.lock\nx\nhttps://h/?q"]:
        s.put("repo", line)
    for attempt, ra, rl in [(0, "3", "-"), (2, "-", '"api";r=0;t=55'), (9, "999999999", "-"),
                            (255, "-1", ";t=-3"), (4, " 12 ", "a;t=4;t=5"), (1, "Wed, 21 Oct 2015 07:28:00 GMT", "-"),
                            (0, "-", ";t=999999999")]:
        s.put("retry", bytes([attempt]) + ("%s\n%s" % (ra, rl)).encode())
    for t in ["2024-02-01T12:30:00.000Z", "2024-02-01T12:30:00+05:30", "1970-01-01T00:00:00Z",
              "1969-12-31T23:59:59Z", "9999-12-31T23:59:60-23:59", "2024-02-31T00:00:00z",
              "+999-01-01T00:00:00Z", "2024-01-01T00:00:00.Z", "2024-01-01 00:00:00Z"]:
        s.put("time", t)
    # ---- manifests
    with open(os.path.join(ROOT, "test-data", "hf_fetch", "tiny-model.manifest.json"), "rb") as f:
        m = f.read()
    s.put("manifest", m, "tiny-model")
    d = json.loads(m)
    d["files"] = d["files"][:2]
    d["tool"] = {"name": "hf-fetch"}
    s.put("manifest", json.dumps(d), "short")
    d2 = dict(d, revision=None, commit_date="2024-01-01T00:00:00Z", endpoint=None)
    s.put("manifest", json.dumps(d2), "nulls")
    d3 = dict(d, files=d["files"] + [dict(d["files"][0])])
    s.put("manifest", json.dumps(d3), "duplicate")
    d4 = dict(d, files=[dict(d["files"][0], path="a/../b")])
    s.put("manifest", json.dumps(d4), "unsafe")
    s.put("manifest", '{"repo_id":"x","repo_type":"space","commit":"%s","files":[]}' % C40, "minimal")
    # ---- cards by hand
    for t in ["---\nlicense: mit\n---\n", "---\r\na: &x [1, *x]\r\n---\r\n",
              "---\na: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n---\n",
              "---\n? [complex]\n: key\nlicense: [mit, 3, apache-2.0]\nmodel-index:\n- name: n\n---\n",
              "---\n%YAML 1.1\n---\nx: 0x1F\ny: 0o17\nz: .inf\nw: 1e999\nv: 99999999999999999999\n---\n",
              "---\n" + "[" * 70 + "]" * 70 + "\n---\n", "---\n---\n", "---\n\"\\u0000\": \"\\0\"\n---\n",
              "---\n!!binary aGVsbG8=\n---\n", "---\n- a\n- b\n---\n", "---\npretty_name: ''\nmodel_name: m\n---\n"]:
        s.put("card", t)
    # ---- the write API's answers: LFS batch and commit, from the fixture's write API
    with FixtureHub(lfs_part_size=1000) as hub:
        import hashlib
        tok = {"Authorization": "Bearer fixture-token-alice-write"}

        def post(url, body, ctype):
            u = urllib.parse.urlsplit(url)
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            try:
                c.request("POST", u.path + ("?" + u.query if u.query else ""), body=body,
                          headers=dict(tok, **{"Content-Type": ctype}))
                return c.getresponse().read()
            finally:
                c.close()
        post(hub.endpoint + "/api/repos/create", json.dumps({"name": "seed", "organization": "alice"}),
             "application/json")
        objs = [{"oid": hashlib.sha256(b"x" * n).hexdigest(), "size": n} for n in (10, 2500)]
        objs.append({"oid": "1" * 64, "size": -1})
        s.put("lfs_batch", post(hub.endpoint + "/alice/seed.git/info/lfs/objects/batch",
                                json.dumps({"operation": "upload", "transfers": ["basic", "multipart"],
                                            "objects": objs}), "application/vnd.git-lfs+json"), "fixture")
        body = json.dumps({"key": "header", "value": {"summary": "s"}}) + "\n"
        s.put("commit_answer", post(hub.endpoint + "/api/models/alice/seed/commit/main?create_pr=1", body,
                                    "application/x-ndjson"), "fixture")
    s.put("lfs_batch", '{"objects":[{"oid":"%s","size":5}]}' % ("a" * 64), "present")
    s.put("lfs_batch", '{"objects":[{"oid":"%s","size":5,"actions":{"upload":{"href":"http://h/x",'
          '"header":{"chunk_size":"2","00001":"http://h/1","00002":"http://h/2","00003":"ftp://h/3"}}}}]}'
          % ("a" * 64), "multipart-bad-scheme")
    s.put("lfs_batch", '{"objects":[{"oid":"%s","size":5,"error":{"code":404,"message":"gone"}}]}' % ("b" * 64),
          "error")
    s.put("commit_answer", '{"commitOid":"%s","commitUrl":"file:///x","pullRequestUrl":3}' % C40, "odd-urls")
    for t in ["license: mit\ntags:\n- \"yes\"\n- '1e3'\n- \"a: b\"\n- \"- x\"\n- \"ünï\"\n",
              "---\nlicense: apache-2.0\n---\n# body\n\n---\nnot front matter\n",
              "a: {b: [1, 2.5, true, null, ~, '']}\nc: \"\\0\\t\\u00e9\"\n", "# no front matter\n"]:
        s.put("card_write", t)
    # ---- small archives made by hf-bundle (when built)
    bundle = os.path.join(os.environ.get("HF_BIN_DIR") or os.path.join(ROOT, "bin"), "hf-bundle")
    if os.access(bundle, os.X_OK):
        import subprocess
        import tempfile
        with FixtureHub() as hub, tempfile.TemporaryDirectory() as tmp:
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "HF_ENDPOINT": hub.endpoint,
                   "HF_HOME": tmp, "SOURCE_DATE_EPOCH": "1700000000"}
            for fmt, extra in [("tar", []), ("tgz", ["--ro-crate"]), ("zip", []),
                               ("tar.zst", ["--prefix", ""])]:
                out = os.path.join(tmp, "b." + fmt)
                subprocess.run([bundle, "-q", "-o", out, "--repo", "acme/tiny-space", "-t", "space",
                                "-x", "README.md"] + extra, env=env, check=True)
                with open(out, "rb") as f:
                    s.put("bundle_read", f.read(), fmt.replace(".", "-"))
    else:
        print("no %s: bundle_read seeds not made" % bundle)
    for t, n in sorted(s.n.items()):
        print("%-10s %d seeds" % (t, n))


if __name__ == "__main__":
    main()
