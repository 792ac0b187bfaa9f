#!/usr/bin/env python3
"""Self-tests of the fixture Hub (tests/hub/hub.py).  Standard library only.

Runs one FixtureHub in-process (plain HTTP), one with TLS, and the command
line once.  Prints "N passed, M failed" last and exits non-zero on failure.
"""

import base64
import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hub as hubmod  # noqa: E402
from hub import FixtureHub  # noqa: E402

ALICE = {"Authorization": "Bearer fixture-token-alice"}
BOB = {"Authorization": "Bearer fixture-token-bob"}
TINY = "acme/tiny-model"
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class R:
    def __init__(self, status, headers, body, partial=False):
        self.status, self.headers, self.body, self.partial = status, headers, body, partial

    def h(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)


def req(url, method="GET", headers=None, body=None, ctx=None, timeout=20):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers or {})
        r = conn.getresponse()
        try:
            data, partial = r.read(), False
        except http.client.IncompleteRead as e:
            data, partial = e.partial, True
        return R(r.status, r.headers, data, partial)
    finally:
        conn.close()


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def ok(cond, what):
    if not cond:
        raise AssertionError(what)


def follow(hub, url, headers=None, method="GET", hops=5):
    """Follow redirects like a careful client: drop Authorization on other hosts."""
    headers = dict(headers or {})
    for _ in range(hops):
        r = req(url, method, headers)
        if r.status not in (301, 302, 307, 308):
            return r, url
        loc = r.h("Location")
        new = urllib.parse.urljoin(url, loc)
        if urllib.parse.urlsplit(new).netloc != urllib.parse.urlsplit(url).netloc:
            headers.pop("Authorization", None)
        url = new
    raise AssertionError("too many redirects")


def err(r, status, code, msg=None):
    eq(r.status, status, "status")
    eq(r.h("X-Error-Code"), code, "X-Error-Code")
    ok(r.h("X-Request-Id"), "X-Request-Id missing")
    ok(r.h("X-Error-Message"), "X-Error-Message missing")
    body = r.json()
    ok(isinstance(body.get("error"), str), "error body")
    if msg is not None:
        eq(body["error"], msg, "error message")
        eq(r.h("X-Error-Message"), msg, "X-Error-Message")


def q(path):
    return "/".join(urllib.parse.quote(s, safe="") for s in path.split("/"))


def pages(hub, url, headers=None, limit=50):
    out, n, links = [], 0, []
    while url:
        r = req(url, headers=headers)
        eq(r.status, 200, "page status " + url)
        out.extend(r.json())
        n += 1
        link = r.h("Link")
        links.append(link)
        url = None
        if link:
            ok(link.startswith("<" + hub.endpoint + "/") and link.endswith('>; rel="next"'), "Link " + link)
            url = link[1:link.index(">")]
            ok("cursor=" in url, "cursor in Link")
        ok(n < limit, "too many pages")
    return out, n, links


# --------------------------------------------------------------------------


@test
def git_primitives(hub):
    eq(hubmod.git_blob_sha1(b"Hello, World!"), "b45ef6fec89518d314f546fd6c3025367b721684", "git sha1")
    eq(hubmod.git_blob_sha1(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "empty blob")
    p = hubmod.lfs_pointer("ab" * 32, 7)
    eq(p, ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize 7\n" % ("ab" * 32)).encode(), "pointer")
    eq(hubmod.generated_bytes(16, 1), hubmod.generated_bytes(64, 1)[:16], "seeded content is stable")


@test
def commits_match_real_git(hub):
    if not shutil.which("git"):
        return
    repo = hub.repo(TINY)
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, GIT_DIR=os.path.join(tmp, ".git"), GIT_INDEX_FILE=os.path.join(tmp, "index"),
               GIT_AUTHOR_NAME="Fixture Hub", GIT_AUTHOR_EMAIL="fixture@hub.invalid",
               GIT_COMMITTER_NAME="Fixture Hub", GIT_COMMITTER_EMAIL="fixture@hub.invalid")

    def git(*a, inp=None, **kw):
        return subprocess.run(("git",) + a, input=inp, capture_output=True, check=True,
                              env=dict(env, **kw)).stdout.decode().strip()
    try:
        git("init", "-q", tmp)
        shas = {}
        for c in repo.commits:
            if os.path.exists(env["GIT_INDEX_FILE"]):
                os.unlink(env["GIT_INDEX_FILE"])
            for p, f in c.files.items():
                oid = git("hash-object", "-w", "--stdin", inp=f.pointer if f.lfs else f.blob.data())
                git("update-index", "--add", "--cacheinfo", "100644,%s,%s" % (oid, p))
            tree = git("write-tree")
            eq(tree, c.dir_oids[""], "tree of " + c.label)
            args = ["commit-tree", tree, "-m", c.message]
            if c.parent is not None:
                args += ["-p", shas[c.parent]]
            date = "%d +0000" % c.epoch
            shas[c.index] = git(*args, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
            eq(shas[c.index], c.sha, "commit " + c.label)
    finally:
        shutil.rmtree(tmp)


@test
def helpers(hub):
    refs = hubmod.refs_of(TINY)
    eq(refs["branches"]["main"], hubmod.commit_of(TINY, "main"), "refs_of/commit_of")
    eq(hub.commit_of(TINY, "v1.0"), refs["tags"]["v1.0"], "tag")
    eq(hub.commit_of(TINY, "refs/pr/1"), refs["pulls"]["refs/pr/1"], "pr")
    ok(len({hub.commit_of(TINY, r) for r in ("main", "dev", "v1.0", "refs/pr/1")}) == 4, "distinct commits")
    f = hub.files_at(TINY, "main")
    for p in ("README.md", "config.json", "model.safetensors", "tokenizer/tokenizer.json",
              "sub dir/file with spaces.txt", "données/é.txt", "weights/part-00001.bin"):
        ok(p in f, "main has " + p)
    ok(f["model.safetensors"]["lfs"] and f["weights/part-00001.bin"]["lfs"], "LFS flags")
    eq(f["weights/part-00001.bin"]["size"], 3 << 20, "part size")
    ok(0.9e6 < f["model.safetensors"]["size"] < 1.2e6, "safetensors ~1 MiB")
    v1 = hub.files_at(TINY, "v1.0")
    ok(len(v1) < len(f) and v1["config.json"]["git_oid"] != f["config.json"]["git_oid"], "v1.0 differs")
    dev = hub.files_at(TINY, "dev")
    eq(set(dev) - set(f), {"dev-notes.md"}, "dev adds one file")
    eq([p for p in f if dev[p]["git_oid"] != f[p]["git_oid"]], ["config.json"], "dev changes one file")
    eq(hashlib.sha256(f["model.safetensors"]["content"]()).hexdigest(), f["model.safetensors"]["sha256"], "sha")
    eq(len(hub.files_at("acme/many-files")), 2500, "many files")
    eq(hub.files_at("acme/big-model")["big.bin"]["size"], 24 << 20, "big")
    eq(hub.files_at("acme/tiny-dataset", repo_type="dataset")["data/big.parquet"]["size"], 512 << 10, "parquet")


@test
def repo_info(hub):
    r = req(hub.endpoint + "/api/models/acme/tiny-model")
    eq(r.status, 200, "status")
    ok(r.h("X-Request-Id"), "X-Request-Id")
    d = r.json()
    eq(d["id"], TINY, "id")
    eq(d["sha"], hub.commit_of(TINY), "sha")
    eq((d["private"], d["gated"], d["disabled"]), (False, False, False), "flags")
    ok(d["lastModified"].endswith("Z"), "lastModified")
    eq(d["cardData"]["license"], "apache-2.0", "cardData")
    readme = hub.files_at(TINY)["README.md"]["content"]().decode()
    ok(readme.startswith("---\nlicense: apache-2.0\n") and "\n---\n" in readme, "front matter")
    for t in d["cardData"]["tags"]:
        ok("\n  - %s\n" % t in readme, "tag %s in README" % t)
    ok(isinstance(d["tags"], list) and d["tags"], "tags")
    eq(sorted(s["rfilename"] for s in d["siblings"]), sorted(hub.files_at(TINY)), "siblings")
    ok("blobId" not in d["siblings"][0], "no blobs by default")
    # blobs=true
    d = req(hub.endpoint + "/api/models/acme/tiny-model?blobs=true").json()
    files = hub.files_at(TINY)
    for s in d["siblings"]:
        f = files[s["rfilename"]]
        eq((s["blobId"], s["size"]), (f["git_oid"], f["size"]), "blob " + s["rfilename"])
        if f["lfs"]:
            eq(s["lfs"], {"sha256": f["sha256"], "size": f["size"], "pointerSize": len(f["pointer"])}, "lfs")
        else:
            ok("lfs" not in s, "no lfs")
    # dataset / space
    d = req(hub.endpoint + "/api/datasets/acme/tiny-dataset").json()
    eq(d["sha"], hub.commit_of("acme/tiny-dataset", repo_type="dataset"), "dataset sha")
    eq(d["cardData"]["license"], "cc-by-4.0", "dataset card")
    d = req(hub.endpoint + "/api/spaces/acme/tiny-space").json()
    eq(d["sdk"], "gradio", "space sdk")
    eq(d["cardData"]["emoji"], "\U0001F680", "emoji")
    err(req(hub.endpoint + "/api/datasets/acme/tiny-model"), 401, "RepoNotFound")


@test
def info_revisions(hub):
    base = hub.endpoint + "/api/models/acme/tiny-model/revision/"
    cases = [("refs%2Fpr%2F1", "refs/pr/1"), ("refs/pr/1", "refs/pr/1"), ("v1.0", "v1.0"),
             ("HEAD", "main"), ("dev", "dev"), ("feature%2Flong-context", "dev"),
             ("feature/long-context", "dev"), ("refs%2Fheads%2Fdev", "dev"), ("refs/tags/v1.0", "v1.0"),
             (hub.commit_of(TINY, "v1.0"), "v1.0"), ("main?expand%5B%5D=sha&expand%5B%5D=cardData&x=1", "main")]
    for raw, rev in cases:
        r = req(base + raw)
        eq(r.status, 200, raw)
        eq(r.json()["sha"], hub.commit_of(TINY, rev), raw)
    eq(req(base + "v1.0").json()["cardData"]["tags"], ["fixture", "tiny"], "card at v1.0")
    err(req(base + "nope"), 404, "RevisionNotFound")
    err(req(base + "0" * 40), 404, "RevisionNotFound")
    err(req(base + "refs%2Fpr%2F9"), 404, "RevisionNotFound")


@test
def info_expand(hub):
    base = hub.endpoint + "/api/models/acme/tiny-model/revision/main"
    full = req(base).json()
    ok("siblings" in full and "downloads" in full, sorted(full))
    r = req(base + "?expand=sha&expand=lastModified&expand=gated")
    eq(r.status, 200, "status")
    eq(r.json(), {"_id": full["_id"], "id": TINY, "sha": full["sha"], "lastModified": full["lastModified"],
                  "gated": full["gated"]}, "only _id, id and the fields asked for")
    eq(req(base + "?expand[]=sha").json(), {"_id": full["_id"], "id": TINY, "sha": full["sha"]}, "expand[]")
    err(req(base + "?expand=sdk"), 400, "BadRequest")
    space = hub.endpoint + "/api/spaces/acme/tiny-space"
    eq(req(space + "?expand=sha").status, 200, "a space's sha")
    err(req(space + "?expand=gated"), 400, "BadRequest")


@test
def tree_listing(hub):
    files = hub.files_at(TINY)
    r = req(hub.endpoint + "/api/models/acme/tiny-model/tree/main")
    eq(r.status, 200, "status")
    ents = r.json()
    paths = [e["path"] for e in ents]
    eq(set(paths), {p.split("/")[0] for p in files}, "direct children")
    dirs = {e["path"] for e in ents if e["type"] == "directory"}
    eq(dirs, {"données", "odd", "sub dir", "tokenizer", "weights"}, "directories")
    c = hub.repo(TINY).resolve("main")
    for e in ents:
        if e["type"] == "directory":
            eq((e["oid"], e["size"]), (c.dir_oids[e["path"]], 0), "dir entry")
            continue
        f = files[e["path"]]
        eq((e["oid"], e["size"]), (f["git_oid"], f["size"]), e["path"])
        if f["lfs"]:
            eq(e["lfs"], {"oid": f["sha256"], "size": f["size"], "pointerSize": len(f["pointer"])}, "lfs")
            eq(e["oid"], hubmod.git_blob_sha1(f["pointer"]), "lfs oid is pointer sha1")
        ok(("lfs" in e) == f["lfs"], "lfs presence")
    # git order: README.md before config.json (byte order), "sub dir" before "tokenizer"
    ok(paths.index("README.md") < paths.index("config.json") < paths.index("données"), "order")
    # recursive
    rec = req(hub.endpoint + "/api/models/acme/tiny-model/tree/main?recursive=true&expand=false").json()
    rp = [e["path"] for e in rec]
    eq(len(rp), len(set(rp)), "unique")
    eq({e["path"] for e in rec if e["type"] == "file"}, set(files), "all files")
    eq({e["path"] for e in rec if e["type"] != "file"}, dirs, "all dirs")
    ok(rp.index("odd") + 1 == rp.index("odd/100%.txt"), "pre-order")
    # sub paths, both encodings
    want = ["tokenizer/special_tokens_map.json", "tokenizer/tokenizer.json"]
    for url in ("/tree/main/tokenizer", "/tree/refs%2Fpr%2F1/tokenizer", "/tree/refs/pr/1/tokenizer",
                "/tree/feature/long-context/tokenizer", "/tree/feature%2Flong-context/tokenizer",
                "/tree/main/tokenizer/?recursive=true"):
        r = req(hub.endpoint + "/api/models/acme/tiny-model" + url)
        eq(r.status, 200, url)
        eq([e["path"] for e in r.json()], want, url)
    eq([e["path"] for e in req(hub.endpoint + "/api/models/acme/tiny-model/tree/main/sub%20dir").json()],
       ["sub dir/file with spaces.txt"], "space")
    eq([e["path"] for e in req(hub.endpoint + "/api/models/acme/tiny-model/tree/main/donn%C3%A9es").json()],
       ["données/é.txt"], "utf-8")
    eq({e["path"] for e in req(hub.endpoint + "/api/models/acme/tiny-model/tree/dev").json()} - set(paths),
       {"dev-notes.md"}, "dev tree")
    eq(len(req(hub.endpoint + "/api/models/acme/tiny-model/tree/v1.0").json()), 4, "v1.0 tree")
    eq(len(req(hub.endpoint + "/api/models/acme/tiny-model/tree/HEAD").json()), len(ents), "HEAD tree")
    # errors
    r = req(hub.endpoint + "/api/models/acme/tiny-model/tree/main/nope")
    err(r, 404, "EntryNotFound")
    eq(r.h("X-Repo-Commit"), hub.commit_of(TINY), "X-Repo-Commit on EntryNotFound")
    err(req(hub.endpoint + "/api/models/acme/tiny-model/tree/nope"), 404, "RevisionNotFound")
    eq(req(hub.endpoint + "/api/models/acme/tiny-model/tree/main?cursor=%%%").status, 400, "bad cursor")


@test
def tree_pagination(hub):
    url = hub.endpoint + "/api/models/acme/many-files/tree/main?recursive=true&expand=false"
    ents, n, links = pages(hub, url)
    eq(n, 3, "pages at 1000")
    eq(len(ents), 2505, "entries")
    eq(len({e["path"] for e in ents}), 2505, "unique entries")
    eq(links[-1], None, "no Link on last page")
    eq(len(req(url).json()), 1000, "first page size")
    ok("recursive=true" in links[0], "Link keeps the query")
    # page size 7 and the JS form of a revision with slashes
    full = req(hub.endpoint + "/api/models/acme/tiny-model/tree/refs/pr/1?recursive=1").json()
    hub.page_size = 7
    try:
        for form in ("refs/pr/1", "refs%2Fpr%2F1"):
            got, n, _ = pages(hub, hub.endpoint + "/api/models/acme/tiny-model/tree/%s?recursive=1" % form)
            eq(got, full, "concatenated pages " + form)
            eq(n, (len(full) + 6) // 7, "pages at 7")
    finally:
        hub.page_size = 1000
    # expand=true pages hold 50 and carry lastCommit / securityFileStatus
    r = req(hub.endpoint + "/api/models/acme/many-files/tree/main?recursive=true&expand=true")
    d = r.json()
    eq(len(d), 50, "expand page")
    ok(r.h("Link"), "expand Link")
    sha = hub.commit_of("acme/many-files")
    for e in d:
        eq(e["lastCommit"]["id"], sha, "lastCommit")
        if e["type"] == "file":
            ok("securityFileStatus" in e, "securityFileStatus")
    d = req(hub.endpoint + "/api/models/acme/tiny-model/tree/main?expand=true").json()
    lc = {e["path"]: e["lastCommit"] for e in d}
    eq(lc["config.json"]["id"], hub.commit_of(TINY, "v2.0"), "config.json last changed in v2.0")
    eq(lc["README.md"]["id"], hub.commit_of(TINY, "main"), "README last changed at main")
    eq(lc[".gitattributes"]["id"], hub.commit_of(TINY, "v1.0"), ".gitattributes from v1.0")
    eq(lc["README.md"]["title"], "Update model card", "title")


@test
def paths_info(hub):
    url = hub.endpoint + "/api/models/acme/tiny-model/paths-info/main"
    body = "paths=config.json&paths=missing.txt&paths=tokenizer&paths=donn%C3%A9es%2F%C3%A9.txt&expand=False"
    r = req(url, "POST", {"Content-Type": "application/x-www-form-urlencoded"}, body)
    eq(r.status, 200, "status")
    d = r.json()
    eq([e["path"] for e in d], ["config.json", "tokenizer", "données/é.txt"], "paths")
    eq(d[0]["oid"], hub.files_at(TINY)["config.json"]["git_oid"], "oid")
    eq(d[1]["type"], "directory", "dir")
    ok("lastCommit" not in d[0], "no expand")
    r = req(hub.endpoint + "/api/models/acme/tiny-model/paths-info/refs%2Fpr%2F1", "POST",
            {"Content-Type": "application/json"},
            json.dumps({"paths": ["model.safetensors", "model.safetensors.index.json", "x"], "expand": True}))
    d = r.json()
    eq([e["path"] for e in d], ["model.safetensors", "model.safetensors.index.json"], "json paths")
    eq(d[0]["lfs"]["oid"], hub.files_at(TINY)["model.safetensors"]["sha256"], "lfs")
    eq(d[1]["lastCommit"]["id"], hub.commit_of(TINY, "refs/pr/1"), "expand")
    eq(req(url, "POST", {"Content-Type": "text/plain"}, "paths=x").status, 400, "content type")
    err(req(hub.endpoint + "/api/models/acme/tiny-model/paths-info/nope", "POST",
            {"Content-Type": "application/json"}, "{}"), 404, "RevisionNotFound")


@test
def refs(hub):
    d = req(hub.endpoint + "/api/models/acme/tiny-model/refs").json()
    ok("pullRequests" not in d, "no PRs by default")
    eq(d["converts"], [], "converts")
    b = {x["name"]: x for x in d["branches"]}
    eq(b["main"], {"name": "main", "ref": "refs/heads/main", "targetCommit": hub.commit_of(TINY)}, "main")
    eq(b["feature/long-context"]["targetCommit"], hub.commit_of(TINY, "dev"), "feature")
    eq(d["tags"][0], {"name": "v1.0", "ref": "refs/tags/v1.0", "targetCommit": hub.commit_of(TINY, "v1.0")}, "tag")
    d = req(hub.endpoint + "/api/models/acme/tiny-model/refs?include_prs=1").json()
    eq(d["pullRequests"], [{"name": "refs/pr/1", "ref": "refs/pr/1",
                            "targetCommit": hub.commit_of(TINY, "refs/pr/1")}], "PRs")


@test
def resolve_regular(hub):
    f = hub.files_at(TINY)["config.json"]
    sha = hub.commit_of(TINY)
    for method in ("HEAD", "GET"):
        r = req(hub.endpoint + "/acme/tiny-model/resolve/main/config.json", method)
        eq(r.status, 307, "status")
        loc = r.h("Location")
        ok(loc.startswith("/api/resolve-cache/models/acme/tiny-model/%s/config.json?" % sha), "relative " + loc)
        ok("etag=%22" + f["git_oid"] + "%22" in loc, "etag in query")
        eq(r.h("X-Repo-Commit"), sha, "X-Repo-Commit")
        eq(r.h("ETag"), '"%s"' % f["git_oid"], "ETag")
        r2 = req(hub.endpoint + loc, method)
        eq(r2.status, 200, "resolve-cache")
        eq(r2.h("ETag"), '"%s"' % f["git_oid"], "ETag 200")
        eq(r2.h("X-Repo-Commit"), sha, "X-Repo-Commit 200")
        eq(int(r2.h("Content-Length")), f["size"], "Content-Length")
        eq(r2.body, f["content"]() if method == "GET" else b"", "body")


@test
def resolve_lfs(hub):
    f = hub.files_at(TINY)["model.safetensors"]
    for method in ("HEAD", "GET"):
        r = req(hub.endpoint + "/acme/tiny-model/resolve/main/model.safetensors", method, ALICE)
        eq(r.status, 302, "status")
        loc = r.h("Location")
        ok(loc.startswith(hub.cdn + "/lfs/" + f["sha256"] + "?") and "X-Amz-Signature=" in loc, "absolute " + loc)
        ok(loc.startswith("http://localhost:"), "CDN host is localhost")
        eq(r.h("X-Linked-Etag"), '"%s"' % f["sha256"], "X-Linked-Etag")
        eq(r.h("X-Linked-Size"), str(f["size"]), "X-Linked-Size")
        eq(r.h("X-Repo-Commit"), hub.commit_of(TINY), "X-Repo-Commit")
        ok(r.h("ETag") and r.h("ETag") != r.h("X-Linked-Etag"), "ETag differs from X-Linked-Etag")
        r2 = req(loc, method)
        eq(r2.status, 200, "cdn")
        eq(int(r2.h("Content-Length")), f["size"], "cdn length")
        if method == "GET":
            eq(hashlib.sha256(r2.body).hexdigest(), f["sha256"], "cdn content")
    # the signature is checked
    r = req(hub.endpoint + "/acme/tiny-model/resolve/main/model.safetensors")
    loc = r.h("Location")
    eq(req(loc.split("?")[0]).status, 403, "unsigned")
    eq(req(loc.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status, 403, "bad signature")
    eq(req(hub.cdn_url(f["sha256"])).status, 200, "cdn_url helper")
    eq(req(hub.cdn + "/lfs/" + "0" * 64).status, 403, "unknown blob, unsigned")
    r = req(hub.endpoint + "/acme/tiny-model/raw/main/model.safetensors")
    eq((r.status, r.body), (200, f["pointer"]), "raw pointer")
    eq(r.h("ETag"), '"%s"' % f["git_oid"], "raw ETag")
    r = req(hub.endpoint + "/acme/tiny-model/raw/main/config.json")
    eq((r.status, r.body), (200, hub.files_at(TINY)["config.json"]["content"]()), "raw regular")


@test
def resolve_every_file_and_name(hub):
    for rev, qrev in (("main", "main"), ("dev", "dev"), ("refs/pr/1", "refs%2Fpr%2F1"),
                      ("refs/pr/1", "refs/pr/1"), ("v1.0", "v1.0")):
        sha = hub.commit_of(TINY, rev)
        for p, f in hub.files_at(TINY, rev).items():
            if f["lfs"] and rev != "main":
                continue
            r, url = follow(hub, "%s/acme/tiny-model/resolve/%s/%s" % (hub.endpoint, qrev, q(p)))
            eq(r.status, 200, p)
            eq(r.body, f["content"](), "content of %s at %s" % (p, rev))
            if not f["lfs"]:
                eq(r.h("X-Repo-Commit"), sha, "commit " + p)
    r = req(hub.endpoint + "/acme/tiny-model/resolve/main/dev-notes.md")
    err(r, 404, "EntryNotFound")
    eq(r.h("X-Repo-Commit"), hub.commit_of(TINY), "X-Repo-Commit")
    err(req(hub.endpoint + "/acme/tiny-model/resolve/main/tokenizer"), 404, "EntryNotFound")
    err(req(hub.endpoint + "/acme/tiny-model/resolve/nope/config.json"), 404, "RevisionNotFound")
    err(req(hub.endpoint + "/acme/tiny-model/resolve/main/odd/question"), 404, "EntryNotFound")
    # prefixes
    for prefix, rid, rtype in (("/datasets/", "acme/tiny-dataset", "dataset"), ("/spaces/", "acme/tiny-space", "space")):
        for p, f in hub.files_at(rid, repo_type=rtype).items():
            r = req(hub.endpoint + prefix + rid + "/resolve/main/" + q(p))
            eq(r.status, 302 if f["lfs"] else 307, p)
            if not f["lfs"]:
                ok(r.h("Location").startswith("/api/resolve-cache/%ss/%s/" % (rtype, rid)), "cache prefix")
            r, _ = follow(hub, hub.endpoint + prefix + rid + "/resolve/main/" + q(p))
            eq(r.body, f["content"](), p)
    err(req(hub.endpoint + "/acme/tiny-dataset/resolve/main/README.md"), 401, "RepoNotFound")


@test
def ranges(hub):
    f = hub.files_at(TINY)["weights/part-00001.bin"]
    data, n = f["content"](), f["size"]
    loc = req(hub.endpoint + "/acme/tiny-model/resolve/main/weights/part-00001.bin").h("Location")
    for rng, start, end in (("bytes=0-9", 0, 9), ("bytes=100-", 100, n - 1), ("bytes=-5", n - 5, n - 1),
                            ("bytes=%d-%d" % (n - 3, n + 100), n - 3, n - 1)):
        r = req(loc, headers={"Range": rng})
        eq(r.status, 206, rng)
        eq(r.h("Content-Range"), "bytes %d-%d/%d" % (start, end, n), rng)
        eq(r.body, data[start:end + 1], rng)
    for rng in ("bytes=%d-" % n, "bytes=%d-%d" % (n + 5, n + 10)):
        r = req(loc, headers={"Range": rng})
        eq(r.status, 416, rng)
        eq(r.h("Content-Range"), "bytes */%d" % n, "416 Content-Range")
    r = req(loc, headers={"Range": "bytes=0-9", "If-Range": '"nope"'})
    eq((r.status, len(r.body)), (200, n), "If-Range mismatch")
    # on resolve-cache too, and an empty file
    cfg = hub.files_at(TINY)["config.json"]
    cloc = req(hub.endpoint + "/acme/tiny-model/resolve/main/config.json").h("Location")
    r = req(hub.endpoint + cloc, headers={"Range": "bytes=5-"})
    eq((r.status, r.body), (206, cfg["content"]()[5:]), "resolve-cache range")
    eloc = req(hub.endpoint + "/acme/tiny-model/resolve/main/empty.txt").h("Location")
    r = req(hub.endpoint + eloc)
    eq((r.status, r.body, r.h("Content-Length")), (200, b"", "0"), "empty file")
    r = req(hub.endpoint + eloc, headers={"Range": "bytes=0-"})
    eq((r.status, r.h("Content-Range")), (416, "bytes */0"), "empty range")


@test
def gzip_only_when_asked(hub):
    cfg = hub.files_at(TINY)["config.json"]
    cloc = hub.endpoint + req(hub.endpoint + "/acme/tiny-model/resolve/main/config.json").h("Location")
    r = req(cloc, headers={"Accept-Encoding": "gzip, deflate"})
    eq(r.h("Content-Encoding"), "gzip", "gzip")
    eq(gzip.decompress(r.body), cfg["content"](), "gunzip")
    eq(r.h("ETag"), '"%s"' % cfg["git_oid"], "ETag of raw bytes")
    r = req(cloc, headers={"Accept-Encoding": "identity"})
    eq((r.h("Content-Encoding"), r.body), (None, cfg["content"]()), "identity")


@test
def error_table(hub):
    ep = hub.endpoint
    priv = ep + "/api/models/acme/private-model"
    err(req(priv), 401, "RepoNotFound")
    err(req(priv, headers=BOB), 404, "RepoNotFound")
    eq(req(priv, headers=ALICE).json()["private"], True, "alice reads private")
    err(req(ep + "/acme/private-model/resolve/main/config.json"), 401, "RepoNotFound")
    err(req(ep + "/acme/private-model/resolve/main/config.json", headers=BOB), 404, "RepoNotFound")
    r, _ = follow(hub, ep + "/acme/private-model/resolve/main/model.bin", ALICE)
    eq(r.body, hub.files_at("acme/private-model")["model.bin"]["content"](), "alice downloads private")
    err(req(ep + "/api/models/acme/nope"), 401, "RepoNotFound")
    err(req(ep + "/api/models/acme/nope", headers=ALICE), 404, "RepoNotFound")
    err(req(ep + "/acme/nope/resolve/main/x", headers=ALICE), 404, "RepoNotFound")
    err(req(ep + "/api/models/not--valid"), 401, "RepoNotFound")
    for url in (ep + "/api/models/acme/tiny-model", ep + "/acme/tiny-model/resolve/main/config.json",
                ep + "/api/whoami-v2"):
        err(req(url, headers={"Authorization": "Bearer fixture-token-nobody"}), 401, None,
            "Invalid credentials in Authorization header")
    # gated, listing public
    g = ep + "/api/models/acme/gated-model"
    eq(req(g).json()["gated"], "manual", "gated info public")
    eq(req(g + "/tree/main").status, 200, "gated tree public")
    eq(req(ep + "/acme/gated-model/resolve/main/README.md").status, 307, "gated README public")
    err(req(ep + "/acme/gated-model/resolve/main/config.json"), 401, "GatedRepo")
    err(req(ep + "/acme/gated-model/resolve/main/config.json", headers=BOB), 403, "GatedRepo")
    err(req(ep + "/acme/gated-model/resolve/main/model.safetensors", headers=BOB), 403, "GatedRepo")
    r = req(ep + "/acme/gated-model/resolve/main/config.json", headers=ALICE)
    eq(r.status, 307, "alice approved")
    err(req(ep + r.h("Location"), headers=BOB), 403, "GatedRepo")
    eq(req(ep + r.h("Location"), headers=ALICE).status, 200, "alice resolve-cache")
    eq(req(ep + "/acme/gated-model/resolve/main/model.safetensors", headers=ALICE).status, 302, "alice LFS")
    # gated API
    g = ep + "/api/models/acme/gated-listing-model"
    err(req(g), 401, "GatedRepo")
    err(req(g, headers=BOB), 403, "GatedRepo")
    err(req(g + "/tree/main", headers=BOB), 403, "GatedRepo")
    eq(req(g, headers=ALICE).json()["gated"], "auto", "alice sees gated-listing")
    eq(req(g + "/tree/main", headers=ALICE).status, 200, "alice tree")
    # disabled
    for url in (ep + "/api/models/acme/disabled-model", ep + "/acme/disabled-model/resolve/main/config.json"):
        err(req(url), 403, None, "Access to this resource is disabled.")
        err(req(url, headers=ALICE), 403, None, "Access to this resource is disabled.")


@test
def renamed_and_mirror(hub):
    ep = hub.endpoint
    for old, new in (("/api/models/acme/old-name", "/api/models/acme/tiny-model"),
                     ("/api/models/acme/old-name/tree/main?recursive=true", "/api/models/acme/tiny-model/tree/main?recursive=true"),
                     ("/acme/old-name/resolve/main/config.json", "/acme/tiny-model/resolve/main/config.json"),
                     ("/acme/old-name/resolve/refs%2Fpr%2F1/sub%20dir/file%20with%20spaces.txt",
                      "/acme/tiny-model/resolve/refs%2Fpr%2F1/sub%20dir/file%20with%20spaces.txt")):
        r = req(ep + old)
        eq((r.status, r.h("Location")), (307, new), old)
    r, _ = follow(hub, ep + "/acme/old-name/resolve/main/config.json")
    eq(r.body, hub.files_at(TINY)["config.json"]["content"](), "renamed download")
    files = hub.files_at("acme/mirror-model")
    for p in ("config.json", "model.bin"):
        r = req(ep + "/acme/mirror-model/resolve/main/" + p)
        eq(r.status, 200, "direct " + p)
        eq(r.h("ETag"), '"%s"' % files[p]["etag"], "ETag " + p)
        eq(r.h("X-Repo-Commit"), hub.commit_of("acme/mirror-model"), "commit " + p)
        eq(r.body, files[p]["content"](), "content " + p)
    eq(files["model.bin"]["etag"], files["model.bin"]["sha256"], "LFS etag is sha256")


@test
def big_model(hub):
    f = hub.files_at("acme/big-model")["big.bin"]
    r = req(hub.endpoint + "/acme/big-model/resolve/main/big.bin", "HEAD")
    eq((r.status, r.h("X-Linked-Size")), (302, str(24 << 20)), "HEAD")
    loc = r.h("Location")
    r = req(loc, headers={"Range": "bytes=%d-" % (20 << 20)})
    eq((r.status, r.h("Content-Range")), (206, "bytes %d-%d/%d" % (20 << 20, (24 << 20) - 1, 24 << 20)), "range")
    eq(r.body, f["content"]()[20 << 20:], "range body")
    r = req(loc)
    eq(hashlib.sha256(r.body).hexdigest(), f["sha256"], "full body")


@test
def whoami(hub):
    d = req(hub.endpoint + "/api/whoami-v2", headers=ALICE).json()
    eq((d["name"], d["type"]), ("alice", "user"), "whoami")
    err(req(hub.endpoint + "/api/whoami-v2"), 401, None)


@test
def fault_status(hub):
    ep = hub.endpoint
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "status", "status": 429, "retry_after": 3,
                     "ratelimit_t": 55, "times": 1}])
    r = req(ep + "/api/models/acme/tiny-model")
    eq(r.status, 429, "429")
    eq((r.h("Retry-After"), r.h("RateLimit")), ("3", '"api";r=0;t=55'), "rate headers")
    ok(r.h("RateLimit-Policy"), "RateLimit-Policy")
    eq(r.h("X-Error-Code"), None, "no X-Error-Code")
    ok(r.h("X-Request-Id") and "error" in r.json(), "error body")
    eq(req(ep + "/api/models/acme/tiny-model").status, 200, "times consumed")
    eq(hub.faults()[0]["times"], 0, "times decremented")
    # per path, on resolve
    hub.set_faults([{"repo": TINY, "path": "*.json", "where": "resolve", "kind": "status", "status": 503,
                     "times": 2}])
    eq(req(ep + "/api/models/acme/tiny-model").status, 200, "api unaffected")
    eq(req(ep + "/acme/tiny-model/resolve/main/README.md").status, 307, "other path unaffected")
    eq(req(ep + "/acme/tiny-model/resolve/main/config.json").status, 503, "503 #1")
    eq(req(ep + "/acme/tiny-model/resolve/main/config.json").status, 503, "503 #2")
    eq(req(ep + "/acme/tiny-model/resolve/main/config.json").status, 307, "recovered")
    # tree only, and CDN only
    hub.set_faults([{"repo": TINY, "where": "tree", "kind": "status", "status": 500},
                    {"repo": TINY, "where": "cdn", "kind": "status", "status": 502, "path": "model.*"}])
    eq(req(ep + "/api/models/acme/tiny-model").status, 200, "info unaffected by tree fault")
    eq(req(ep + "/api/models/acme/tiny-model/tree/main").status, 500, "tree 500")
    r = req(ep + "/acme/tiny-model/resolve/main/model.safetensors")
    eq(r.status, 302, "resolve unaffected by cdn fault")
    eq(req(r.h("Location")).status, 502, "cdn 502")
    loc = req(ep + "/acme/tiny-model/resolve/main/weights/part-00001.bin").h("Location")
    eq(req(loc, "HEAD").status, 200, "cdn other path fine")
    hub.set_faults([{"repo": TINY, "where": "tree", "path": "tokenizer", "kind": "status", "status": 503}])
    eq(req(ep + "/api/models/acme/tiny-model/tree/main").status, 200, "tree root unaffected")
    eq(req(ep + "/api/models/acme/tiny-model/tree/refs/pr/1/tokenizer").status, 503, "tree path fault")
    for st in (408, 504):
        hub.set_faults([{"repo": TINY, "kind": "status", "status": st, "times": 1}])
        eq(req(ep + "/acme/tiny-model/resolve/main/config.json").status, st, str(st))
    hub.clear_faults()


@test
def fault_body(hub):
    ep = hub.endpoint
    f = hub.files_at(TINY)["model.safetensors"]
    data = f["content"]()
    loc = req(ep + "/acme/tiny-model/resolve/main/model.safetensors").h("Location")
    for kind in ("drop", "short"):
        hub.set_faults([{"repo": TINY, "path": "model.safetensors", "where": "cdn", "kind": kind, "after": 1000,
                         "times": 1}])
        r = req(loc)
        eq((r.status, r.partial, len(r.body)), (200, True, 1000), kind)
        eq(r.body, data[:1000], kind + " prefix")
        r = req(loc)
        eq((r.partial, r.body), (False, data), kind + " consumed")
    # drop inside a range answer; and on a regular file through "resolve"
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "kind": "drop", "after": 10}])
    r = req(loc, headers={"Range": "bytes=100-"})
    eq((r.status, r.partial, r.body), (206, True, data[100:110]), "drop in range")
    hub.set_faults([{"repo": TINY, "path": "config.json", "where": "resolve", "kind": "short", "after": 7}])
    cfg = hub.files_at(TINY)["config.json"]["content"]()
    r, _ = follow(hub, ep + "/acme/tiny-model/resolve/main/config.json")
    eq((r.status, r.partial, r.body), (200, True, cfg[:7]), "short regular")
    # corrupt: one byte flipped, headers truthful; a range that misses the offset is untouched
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "kind": "corrupt", "offset": 5000, "times": 1}])
    r = req(loc, headers={"Range": "bytes=0-99"})
    eq(r.body, data[:100], "range without the offset")
    r = req(loc)
    eq((r.status, int(r.h("Content-Length")), len(r.body)), (200, len(data), len(data)), "corrupt sizes")
    diff = [i for i in range(len(data)) if r.body[i] != data[i]] if r.body != data else []
    eq(diff, [5000], "one corrupted byte")
    eq(req(loc).body, data, "corrupt consumed")
    # stall
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "kind": "stall", "after": 10, "seconds": 0.6,
                     "times": 1}])
    t = time.time()
    r = req(loc)
    ok(time.time() - t >= 0.55, "stalled")
    eq(r.body, data, "stall content")
    hub.clear_faults()
    # the server survives abrupt disconnects mid-body
    s = socket.create_connection(("127.0.0.1", hub.cdn_port))
    u = urllib.parse.urlsplit(loc)
    s.sendall(("GET %s?%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % (u.path, u.query)).encode())
    s.recv(100)
    s.close()
    eq(req(loc, "HEAD").status, 200, "alive after disconnect")


@test
def fault_expiring_urls_and_empty_ranges(hub):
    ep = hub.endpoint
    f = hub.files_at(TINY)["model.safetensors"]
    data = f["content"]()
    res = ep + "/acme/tiny-model/resolve/main/model.safetensors"
    # a URL good for one request, then refused as S3 refuses an expired one
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "kind": "expire_url", "uses": 1,
                     "times": 1}])
    loc = req(res).h("Location")
    eq(req(loc).body, data, "first use served")
    r = req(loc, headers={"Range": "bytes=10-"})
    eq((r.status, r.h("Content-Type")), (403, "application/xml"), "second use refused")
    ok(b"<Code>AccessDenied</Code>" in r.body and b"Request has expired" in r.body, r.body)
    loc2 = req(res).h("Location")
    ok(loc2 != loc, "a fresh URL")
    eq([req(loc2).status for _ in range(3)], [200, 200, 200], "times spent: URLs last")
    # a URL that has already expired (X-Amz-Expires=0); faults apply to their path only
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "kind": "expire_url", "seconds": 0}])
    loc = req(res).h("Location")
    ok("X-Amz-Expires=0" in loc, loc)
    r = req(loc)
    eq(r.status, 403, "expired at once")
    ok(b"Request has expired" in r.body, r.body)
    part = ep + "/acme/tiny-model/resolve/main/weights/part-00001.bin"
    eq(req(req(part).h("Location"), "HEAD").status, 200, "another file")
    # a partial answer without a body
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "where": "cdn", "kind": "empty_range"}])
    loc = req(res).h("Location")
    r = req(loc, headers={"Range": "bytes=100-"})
    eq((r.status, r.h("Content-Range"), r.h("Content-Length"), r.body),
       (206, "bytes 100-%d/%d" % (len(data) - 1, len(data)), "0", b""), "empty 206")
    eq(req(loc).body, data, "no Range: the whole body")
    hub.clear_faults()


@test
def fault_drip_echo_and_override(hub):
    ep = hub.endpoint
    # drip: the API answer comes a byte every 0.1 s, whole in the end
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "drip", "bytes": 200, "interval": 0.1,
                     "times": 1}])
    t = time.time()
    r = req(ep + "/api/models/acme/tiny-model")
    n = len(r.body)
    ok(time.time() - t >= 0.1 * (n // 200), "dripped")
    eq(r.json()["id"], TINY, "dripped answer whole")
    t = time.time()
    req(ep + "/api/models/acme/tiny-model")
    ok(time.time() - t < 1, "drip consumed")
    for bad in ({"kind": "drip", "bytes": 0}, {"kind": "drip", "interval": 0},
                {"kind": "expire_url", "uses": -1}, {"kind": "info_override", "fields": 3}):
        try:
            hubmod.check_fault(dict(bad, repo=TINY))
        except ValueError:
            continue
        raise AssertionError("accepted %r" % bad)
    # what a server echoing data says: info fields, a request id, a message in the body alone
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "info_override",
                     "fields": {"lastModified": "echo", "id": "other/id"}}])
    d = req(ep + "/api/models/acme/tiny-model").json()
    eq((d["lastModified"], d["id"]), ("echo", "other/id"), "override")
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "status", "status": 500,
                     "request_id": "rid-echo", "message": "body words", "body_only": True}])
    r = req(ep + "/api/models/acme/tiny-model")
    eq((r.status, r.h("X-Request-Id"), r.h("X-Error-Message"), r.json()["error"]),
       (500, "rid-echo", None, "body words"), "status extras")
    # an error answer whose body drips
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "status", "status": 503, "drip": True,
                     "bytes": 10, "interval": 0.1, "message": "m" * 40, "times": 1}])
    t = time.time()
    r = req(ep + "/api/models/acme/tiny-model")
    eq((r.status, r.json()["error"]), (503, "m" * 40), "dripping error whole")
    ok(time.time() - t >= 0.4, "error body dripped")
    hub.clear_faults()


@test
def fault_tree_and_json(hub):
    ep = hub.endpoint
    hub.set_faults([{"repo": TINY, "kind": "unsafe_paths",
                     "paths": ["../x", "/etc/passwd", "a\\b", "ctl\u0001x", "a//b"]}])
    d = req(ep + "/api/models/acme/tiny-model/tree/main?recursive=true").json()
    eq([e["path"] for e in d[-5:]], ["../x", "/etc/passwd", "a\\b", "ctl\u0001x", "a//b"], "unsafe entries")
    ok(all(e["type"] == "file" and len(e["oid"]) == 40 for e in d[-5:]), "unsafe entries are files")
    hub.set_faults([{"repo": TINY, "kind": "endless_cursor", "mode": "repeat"}])
    url = ep + "/api/models/acme/tiny-model/tree/main"
    seen = []
    for _ in range(4):
        r = req(url)
        link = r.h("Link")
        ok(link, "always a Link")
        url = link[1:link.index(">")]
        seen.append(url)
    eq(len(set(seen)), 1, "repeat: same cursor")
    hub.set_faults([{"repo": TINY, "kind": "endless_cursor", "mode": "new"}])
    url, seen = ep + "/api/models/acme/tiny-model/tree/main", []
    for _ in range(5):
        r = req(url)
        eq(r.status, 200, "new page")
        link = r.h("Link")
        url = link[1:link.index(">")]
        seen.append(url)
    eq(len(set(seen)), 5, "new: fresh cursors")
    hub.set_faults([{"repo": TINY, "kind": "bad_json", "times": 2}])
    for u in ("/api/models/acme/tiny-model", "/api/models/acme/tiny-model/tree/main"):
        r = req(ep + u)
        eq(r.status, 200, "bad_json status")
        try:
            json.loads(r.body)
            raise AssertionError("body parsed: " + u)
        except ValueError:
            pass
        eq(int(r.h("Content-Length")), len(r.body), "truthful length")
    eq(req(ep + "/api/models/acme/tiny-model").status, 200, "bad_json consumed")
    json.loads(req(ep + "/api/models/acme/tiny-model").body)
    # validation
    for bad in ({"kind": "status", "status": 500}, {"repo": TINY, "kind": "nope"},
                {"repo": TINY, "kind": "status", "status": 500, "where": "elsewhere"}):
        try:
            hub.add_fault(bad)
            raise AssertionError("accepted %r" % bad)
        except ValueError:
            pass
    hub.clear_faults()


@test
def fault_redirects_and_overlong(hub):
    ep = hub.endpoint
    res = ep + "/acme/tiny-model/resolve/main/config.json"
    cfg = hub.files_at(TINY)["config.json"]["content"]()
    # redirect_loop: to itself, or to a new hop each time
    hub.set_faults([{"repo": TINY, "path": "config.json", "where": "resolve", "kind": "redirect_loop"}])
    r = req(res)
    eq((r.status, r.h("Location")), (302, "/acme/tiny-model/resolve/main/config.json"), "loop to itself")
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "redirect_loop", "mode": "new", "status": 307}])
    locs, url = [], ep + "/api/models/acme/tiny-model?x=1"
    for _ in range(3):
        r = req(url)
        eq(r.status, 307, "loop status")
        locs.append(r.h("Location"))
        url = ep + r.h("Location")
    eq(locs, ["/api/models/acme/tiny-model?x=1&hop=%d" % i for i in (1, 2, 3)], "new hops")
    # redirect_scheme: to file:// by default, or any location
    hub.set_faults([{"repo": TINY, "where": "resolve", "kind": "redirect_scheme", "times": 1}])
    eq(req(res).h("Location"), "file:///etc/passwd", "file scheme")
    hub.set_faults([{"repo": TINY, "where": "cdn", "kind": "redirect_scheme", "location": "ftp://127.0.0.1/x"}])
    loc = req(ep + "/acme/tiny-model/resolve/main/model.safetensors").h("Location")
    eq(req(loc).h("Location"), "ftp://127.0.0.1/x", "ftp from the cdn")
    # redirect_host: the same target on another host name, served there, never redirected again
    hub.set_faults([{"repo": TINY, "where": "resolve", "kind": "redirect_host"}])
    hub.clear_log()
    r = req(res, headers=ALICE)
    eq((r.status, r.h("Location")), (302, "http://localhost:%d/acme/tiny-model/resolve/main/config.json" % hub.port),
       "other host")
    r, final = follow(hub, res, headers=ALICE)
    eq((r.status, r.body), (200, cfg), "served on the other host")
    hosts = [(e["host"], "Authorization" in e["headers"]) for e in hub.requests()]
    ok(("localhost:%d" % hub.port, False) in hosts and ("127.0.0.1:%d" % hub.port, True) in hosts, hosts)
    hub.set_faults([{"repo": TINY, "where": "cdn", "kind": "redirect_host", "host": "127.0.0.1", "port": "cdn"}])
    r, final = follow(hub, ep + "/acme/tiny-model/resolve/main/model.safetensors")
    eq((r.status, final.split("/")[2]), (200, "127.0.0.1:%d" % hub.cdn_port), "cdn under another name")
    for bad in ({"repo": TINY, "kind": "redirect_loop", "mode": "x"}, {"repo": TINY, "kind": "redirect_host", "port": 0},
                {"repo": TINY, "kind": "redirect_scheme", "status": 200}, {"repo": TINY, "kind": "overlong", "extra": 0}):
        try:
            hub.add_fault(bad)
            raise AssertionError("accepted %r" % bad)
        except ValueError:
            pass
    # overlong: a Content-Length larger than the body, which comes whole, then the connection closes
    hub.set_faults([{"repo": TINY, "where": "api", "kind": "overlong", "extra": 10, "times": 1}])
    r = req(ep + "/api/models/acme/tiny-model")
    eq((r.status, r.partial, int(r.h("Content-Length")), len(r.body) + 10), (200, True, len(r.body) + 10,
                                                                           int(r.h("Content-Length"))), "overlong api")
    eq(json.loads(r.body)["id"], TINY, "whole body")
    ok(not req(ep + "/api/models/acme/tiny-model").partial, "overlong consumed")
    hub.set_faults([{"repo": TINY, "path": "model.safetensors", "where": "cdn", "kind": "overlong", "times": 1}])
    r = req(req(ep + "/acme/tiny-model/resolve/main/model.safetensors").h("Location"))
    data = hub.files_at(TINY)["model.safetensors"]["content"]()
    eq((r.status, r.partial, r.body, int(r.h("Content-Length"))), (200, True, data, len(data) + 1000), "overlong file")
    hub.clear_faults()


@test
def control_endpoints_and_log(hub):
    ep = hub.endpoint
    hub.clear_log()
    r = req(ep + "/__fixture/faults", "PUT", {"Content-Type": "application/json"},
            json.dumps([{"repo": TINY, "kind": "status", "status": 500, "times": 1}]))
    eq(r.status, 200, "PUT faults")
    eq(req(ep + "/api/models/acme/tiny-model").status, 500, "fault via control")
    req(ep + "/__fixture/faults", "PUT", {}, json.dumps([{"repo": TINY, "kind": "status", "status": 500}]))
    eq(req(ep + "/__fixture/faults", "DELETE").status, 200, "DELETE faults")
    eq(hub.faults(), [], "faults cleared")
    eq(req(ep + "/__fixture/config", "PUT", {}, json.dumps({"page_size": 3})).status, 200, "config")
    eq(hub.page_size, 3, "page size set")
    eq(len(req(ep + "/api/models/acme/tiny-model/tree/main").json()), 3, "page size used")
    req(ep + "/__fixture/config", "PUT", {}, json.dumps({"page_size": 1000}))
    loc = req(ep + "/acme/tiny-model/resolve/main/model.safetensors",
              headers={"Authorization": "Bearer fixture-token-alice", "X-Custom-Case": "Yes"}).h("Location")
    req(loc)
    req(loc, headers={"Authorization": "Bearer leaked"})
    log = req(ep + "/__fixture/log").json()
    eq(log, hub.requests(), "GET /__fixture/log")
    ok(not any("/__fixture/" in e["path"] for e in log), "control requests not logged")
    eq([(e["listener"], e["status"]) for e in log],
       [("hub", 500), ("hub", 200), ("hub", 302), ("cdn", 200), ("cdn", 200)], "log entries")
    e = log[2]
    eq(set(e), {"listener", "method", "host", "path", "headers", "status"}, "log keys")
    eq((e["method"], e["host"], e["path"]), ("GET", ep.split("//")[1], "/acme/tiny-model/resolve/main/model.safetensors"),
       "log fields")
    eq(e["headers"]["Authorization"], "Bearer fixture-token-alice", "Authorization verbatim")
    eq(e["headers"]["X-Custom-Case"], "Yes", "header case preserved")
    eq(log[3]["host"], hub.cdn.split("//")[1], "cdn host")
    ok("Authorization" not in log[3]["headers"], "no Authorization in first cdn request")
    eq(log[4]["headers"]["Authorization"], "Bearer leaked", "cdn Authorization logged")
    eq(req(ep + "/__fixture/log", "DELETE").status, 200, "DELETE log")
    eq(hub.requests(), [], "log cleared")


@test
def keep_alive(hub):
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    try:
        for p in ("/api/models/acme/tiny-model", "/api/models/acme/tiny-model/refs",
                  "/acme/tiny-model/resolve/main/config.json", "/api/models/acme/nope"):
            conn.request("GET", p)
            r = conn.getresponse()
            r.read()
            ok(not r.will_close, "keep-alive after " + p)
        sock = conn.sock
        conn.request("GET", "/api/models/acme/tiny-model")
        conn.getresponse().read()
        ok(conn.sock is sock, "same connection")
    finally:
        conn.close()


def cli_test():
    tmp = tempfile.mkdtemp()
    logf = os.path.join(tmp, "log.jsonl")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "hub.py"), "--log", logf, "--page-size", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        l1, l2 = p.stdout.readline().strip(), p.stdout.readline().strip()
        ok(l1.startswith("HF_ENDPOINT=http://127.0.0.1:"), l1)
        ok(l2.startswith("HF_CDN=http://localhost:"), l2)
        ep = l1.split("=", 1)[1]
        eq(len(req(ep + "/api/models/acme/tiny-model/tree/main").json()), 2, "--page-size")
        # a client that disconnects mid-request and mid-body
        s = socket.create_connection(("127.0.0.1", int(ep.rsplit(":", 1)[1])))
        s.sendall(b"GET /api/models/acme/tiny")
        s.close()
        loc = req(ep + "/acme/big-model/resolve/main/big.bin").h("Location")
        u = urllib.parse.urlsplit(loc)
        s = socket.create_connection(("127.0.0.1", u.port))
        s.sendall(("GET %s?%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (u.path, u.query, u.netloc)).encode())
        s.recv(1000)
        s.close()
        eq(req(ep + "/api/models/acme/tiny-model").status, 200, "alive")
        time.sleep(0.3)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            _, errout = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            raise
    eq(p.returncode, 0, "exit status")
    ok("Traceback" not in errout, "no traceback on stderr: " + errout)
    with open(logf) as f:
        lines = [json.loads(x) for x in f]
    eq(lines[0]["path"], "/api/models/acme/tiny-model/tree/main", "log file")
    eq(lines[0]["status"], 200, "log file status")
    shutil.rmtree(tmp)


def tls_test():
    tmp = tempfile.mkdtemp()
    try:
        with FixtureHub(tls_dir=tmp) as hub:
            ok(hub.endpoint.startswith("https://127.0.0.1:") and hub.cdn.startswith("https://localhost:"), "https")
            ok(os.path.exists(os.path.join(tmp, "ca.pem")) and hub.ca_file == os.path.join(tmp, "ca.pem"), "ca")
            ok(os.path.exists(os.path.join(tmp, "server.pem")) and os.path.exists(os.path.join(tmp, "server.key")),
               "server cert")
            ctx = ssl.create_default_context(cafile=hub.ca_file)
            r = req(hub.endpoint + "/api/models/acme/tiny-model", ctx=ctx)
            eq(r.json()["sha"], hub.commit_of(TINY), "https info")
            r = req(hub.endpoint + "/acme/tiny-model/resolve/main/config.json", ctx=ctx)
            eq(r.status, 307, "https 307")
            eq(req(hub.endpoint + r.h("Location"), ctx=ctx).body,
               hub.files_at(TINY)["config.json"]["content"](), "https content")
            r = req(hub.endpoint + "/acme/tiny-model/resolve/main/model.safetensors", ctx=ctx)
            ok(r.h("Location").startswith(hub.cdn + "/lfs/"), "https cdn")
            r = req(r.h("Location"), ctx=ctx, headers={"Range": "bytes=0-99"})
            eq(r.body, hub.files_at(TINY)["model.safetensors"]["content"]()[:100], "https cdn content")
            try:
                req(hub.endpoint + "/api/models/acme/tiny-model", ctx=ssl.create_default_context())
                raise AssertionError("untrusted CA accepted")
            except ssl.SSLError:
                pass
            s = socket.create_connection(("127.0.0.1", hub.port))
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")     # plain HTTP to a TLS port
            s.close()
            eq(req(hub.endpoint + "/api/models/acme/tiny-model", ctx=ctx).status, 200, "alive")
        ca = open(os.path.join(tmp, "ca.pem")).read()
        with FixtureHub(tls_dir=tmp) as hub:        # reuses the material
            eq(open(hub.ca_file).read(), ca, "CA reused")
            eq(req(hub.endpoint + "/api/models/acme/tiny-model", ctx=ssl.create_default_context(
                cafile=hub.ca_file)).status, 200, "second run")
    finally:
        shutil.rmtree(tmp)


@test
def search_listing(hub):
    base = hub.endpoint + "/api/models"
    r = req(base + "?search=TINY-M")
    eq(r.status, 200, "search status")
    eq([m["id"] for m in r.json()], ["acme/tiny-model"], "search is a case-insensitive part of the id")
    m = r.json()[0]
    # without expand: the base fields; lastModified, sha and gated only when expanded
    eq(sorted(m), sorted(["_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
                          "library_name", "createdAt", "modelId"]), "base fields")
    r = req(base + "?search=tiny-m&expand=sha&expand=gated&expand=lastModified")
    eq(r.json(), [{"_id": m["_id"], "id": TINY, "sha": hub.commit_of(TINY), "gated": False,
                   "lastModified": "2024-03-01T08:15:00.000Z"}], "expanded fields only")
    eq(req(base + "?expand=sdk").status, 400, "a field models do not have")
    eq(req(hub.endpoint + "/api/spaces?expand=downloads").status, 400, "spaces have no downloads")
    eq(req(base + "?sort=stars").status, 400, "unknown sort")
    eq(req(base + "?limit=0").status, 400, "limit 0")
    # private repositories only for their readers; renamed and disabled ones never
    everyone = [x["id"] for x in req(base).json()]
    ok("acme/private-model" not in everyone and "acme/old-name" not in everyone
       and "acme/disabled-model" not in everyone, everyone)
    ok("acme/private-model" in [x["id"] for x in req(base, headers=ALICE).json()], "alice sees private")
    ok("acme/private-model" not in [x["id"] for x in req(base, headers=BOB).json()], "bob does not")
    # author, and every filter (a tag, the pipeline tag or the library)
    eq([x["id"] for x in req(base + "?author=bert-org").json()], ["bert-org/bert-mini", "bert-org/bert-tiny-onnx"],
       "author")
    eq([x["id"] for x in req(base + "?filter=fill-mask&filter=license:mit").json()], ["bert-org/bert-mini"],
       "filters")
    eq(req(base + "?filter=fill-mask&filter=onnx").json(), [], "every filter must hold")
    # sort, both directions, ties in id order
    eq([x["id"] for x in req(base + "?sort=likes&direction=-1&limit=3").json()],
       ["bert-org/bert-tiny-onnx", "bert-org/bert-mini", TINY], "likes descending")
    asc = [x["id"] for x in req(base + "?sort=downloads&direction=1&search=bert").json()]
    eq(asc, ["bert-org/bert-tiny-onnx", "bert-org/bert-mini"], "downloads ascending")
    # Link pagination: limit is the page size; the pages together are the whole listing
    got, n, links = pages(hub, base + "?limit=2&sort=downloads&direction=-1")
    eq(n, (len(everyone) + 1) // 2, "pages of two")
    eq(sorted(x["id"] for x in got), sorted(everyone), "every repository once")
    eq(got[0]["id"], TINY, "sorted across pages")
    ok(links[-1] is None, "no Link on the last page")
    hub.page_size = 3
    _, n, _ = pages(hub, base + "?limit=1000")
    eq(n, (len(everyone) + 2) // 3, "the Hub's own page size caps the limit")
    eq(req(base + "?cursor=%%%").status, 400, "bad cursor")


# --------------------------------------------------------------------------
# The write API, on a hub of its own (what it writes stays in its memory)

ALICE_W = {"Authorization": "Bearer fixture-token-alice-write"}


def _post(url, obj, headers=None, ctype="application/json"):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return req(url, "POST", dict(headers or {}, **{"Content-Type": ctype, "Accept": ctype}), body)


def _ndjson(*ops):
    return "".join(json.dumps({"key": k, "value": v}) + "\n" for k, v in ops).encode()


def _push_lfs(w, repo, data, headers=ALICE_W):
    """Uploads one LFS object through the batch API; returns the batch answer's object."""
    oid = hashlib.sha256(data).hexdigest()
    r = _post(w.endpoint + "/%s.git/info/lfs/objects/batch" % repo,
              {"operation": "upload", "transfers": ["basic", "multipart"], "hash_algo": "sha256",
               "objects": [{"oid": oid, "size": len(data)}], "ref": {"name": "main"}},
              headers, "application/vnd.git-lfs+json")
    eq(r.status, 200, "batch")
    o = r.json()["objects"][0]
    up = o.get("actions", {}).get("upload")
    if up is None:
        return o
    ok(urllib.parse.urlsplit(up.get("header", {}).get("00001", up["href"])).netloc
       == urllib.parse.urlsplit(w.cdn).netloc or "header" in up, "storage on the CDN host")
    if "header" in up:
        chunk = int(up["header"]["chunk_size"])
        parts = []
        for k in sorted(k for k in up["header"] if k.isdigit()):
            n = int(k)
            r = req(up["header"][k], "PUT", {}, data[(n - 1) * chunk:n * chunk])
            eq(r.status, 200, "part %d" % n)
            parts.append({"partNumber": n, "etag": r.h("ETag")})
        eq(_post(up["href"], {"oid": oid, "parts": parts}).status, 200, "complete")
    else:
        eq(req(up["href"], "PUT", {}, data).status, 200, "basic put")
    v = o["actions"]["verify"]
    eq(_post(v["href"], {"oid": oid, "size": len(data)}, headers).status, 200, "verify")
    return o


@test
def write_api(hub):
    with FixtureHub(lfs_part_size=1000) as w:
        api = w.endpoint + "/api/models/alice/new-model"
        create = {"name": "new-model", "organization": "alice", "type": "model", "private": True}
        eq(_post(w.endpoint + "/api/repos/create", create).status, 401, "create without a token")
        eq(_post(w.endpoint + "/api/repos/create", create, ALICE).status, 403, "read token")
        eq(_post(w.endpoint + "/api/repos/create", dict(create, organization="bob"), ALICE_W).status, 403,
           "someone else's namespace")
        r = _post(w.endpoint + "/api/repos/create", create, ALICE_W)
        eq(r.status, 200, "create")
        eq(r.json()["id"], "alice/new-model", "created id")
        eq(_post(w.endpoint + "/api/repos/create", create, ALICE_W).status, 409, "exists")
        space = {"name": "app", "organization": "alice", "type": "space"}
        eq(_post(w.endpoint + "/api/repos/create", space, ALICE_W).status, 400, "a Space without an SDK")
        eq(_post(w.endpoint + "/api/repos/create", dict(space, sdk="flask"), ALICE_W).status, 400,
           "a Space with an unknown SDK")
        eq(_post(w.endpoint + "/api/repos/create", dict(create, name="m2", sdk="gradio"), ALICE_W).status,
           400, "a model with an SDK")
        eq(_post(w.endpoint + "/api/repos/create", dict(space, sdk="gradio"), ALICE_W).status, 200,
           "a Space with its SDK")
        eq(req(api, headers=BOB).status, 404, "private to others")
        info = req(api, headers=ALICE).json()
        eq([s["rfilename"] for s in info["siblings"]], [".gitattributes"], "first commit")
        head = info["sha"]
        # preupload: modes and oids
        r = _post(api + "/preupload/main", {"files": [
            {"path": "a.txt", "size": 3, "sample": base64.b64encode(b"abc").decode()},
            {"path": "w.safetensors", "size": 3, "sample": base64.b64encode(b"abc").decode()},
            {"path": "z.dat", "size": 2, "sample": base64.b64encode(b"a\0").decode()},
            {"path": ".gitattributes", "size": 1, "sample": ""}]}, ALICE_W)
        eq(r.status, 200, "preupload")
        modes = {f["path"]: f["uploadMode"] for f in r.json()["files"]}
        eq(modes, {"a.txt": "regular", "w.safetensors": "lfs", "z.dat": "lfs", ".gitattributes": "regular"},
           "modes")
        eq(r.json()["files"][3]["oid"], w.files_at("alice/new-model")[".gitattributes"]["git_oid"], "oid")
        # LFS: multipart (3 parts of 1000), then basic, then known
        big = os.urandom(2500)
        o = _push_lfs(w, "alice/new-model", big)
        eq(len([k for k in o["actions"]["upload"]["header"] if k.isdigit()]), 3, "three parts")
        small = b"tiny lfs"
        o = _push_lfs(w, "alice/new-model", small)
        ok("header" not in o["actions"]["upload"], "basic")
        ok("actions" not in _push_lfs(w, "alice/new-model", big), "known object: nothing to send")
        # commit, with a stale parent first
        ops = [("header", {"summary": "Add", "description": "two", "parentCommit": "0" * 40}),
               ("file", {"path": "a.txt", "content": base64.b64encode(b"abc").decode(), "encoding": "base64"}),
               ("lfsFile", {"path": "w.safetensors", "algo": "sha256", "oid": hashlib.sha256(big).hexdigest(),
                            "size": len(big)}),
               ("lfsFile", {"path": "d/s.bin", "algo": "sha256", "oid": hashlib.sha256(small).hexdigest(),
                            "size": len(small)})]
        r = _post(api + "/commit/main", _ndjson(*ops), ALICE_W, "application/x-ndjson")
        eq(r.status, 412, "stale parent")
        eq(req(api, headers=ALICE).json()["sha"], head, "nothing committed")
        ops[0][1]["parentCommit"] = head
        r = _post(api + "/commit/main", _ndjson(*ops), ALICE_W, "application/x-ndjson")
        eq(r.status, 200, "commit")
        new = r.json()["commitOid"]
        f = w.files_at("alice/new-model")
        eq(sorted(f), [".gitattributes", "a.txt", "d/s.bin", "w.safetensors"], "new tree")
        eq(w.commit_of("alice/new-model"), new, "branch moved")
        ok(f["w.safetensors"]["lfs"] and f["w.safetensors"]["content"]() == big, "lfs content")
        # readable back: tree, resolve (CDN for LFS)
        tree = req(api + "/tree/main?recursive=true", headers=ALICE).json()
        ok(any(e["path"] == "d/s.bin" and e["lfs"]["oid"] == hashlib.sha256(small).hexdigest() for e in tree),
           "tree")
        r, _ = follow(w, w.endpoint + "/alice/new-model/resolve/%s/w.safetensors" % new, ALICE)
        eq(r.body, big, "resolve LFS")
        # an unknown LFS object, binary inline, a bad path, a card the Hub refuses
        bad = [("lfsFile", {"path": "x.bin", "algo": "sha256", "oid": "1" * 64, "size": 1}),
               ("file", {"path": "x.txt", "content": base64.b64encode(b"a\0b").decode(), "encoding": "base64"}),
               ("file", {"path": "../x", "content": "", "encoding": "base64"}),
               ("file", {"path": ".git/config", "content": "", "encoding": "base64"}),
               ("file", {"path": "README.md", "encoding": "base64", "content": base64.b64encode(
                   b"---\nlicense: not-a-license\nbase_model: nope\ntags:\n- 1\n---\nhi\n").decode()})]
        for op in bad:
            r = _post(api + "/commit/main", _ndjson(("header", {"summary": "x"}), op), ALICE_W,
                      "application/x-ndjson")
            eq(r.status, 400, "refused " + op[1]["path"])
        msg = r.json()["error"]
        ok(msg.startswith("Invalid metadata in README.md.\n- ") and msg.count("\n- ") == 3, msg)
        eq(w.commit_of("alice/new-model"), new, "nothing committed")
        # a good card, read back as cardData; a deletion; a pull request
        card = b'---\nlicense: mit\ntags:\n- "yes"\nbase_model: acme/tiny-model\n---\n# x\n'
        r = _post(api + "/commit/main?create_pr=1", _ndjson(
            ("header", {"summary": "Card"}),
            ("file", {"path": "README.md", "content": base64.b64encode(card).decode(), "encoding": "base64"}),
            ("deletedFile", {"path": "a.txt"})), ALICE_W, "application/x-ndjson")
        eq(r.status, 200, "pull request")
        ok(r.json()["pullRequestUrl"].endswith("/alice/new-model/discussions/1"), "PR url")
        eq(w.commit_of("alice/new-model"), new, "main unchanged by a PR")
        pr = req(api + "/revision/refs%2Fpr%2F1", headers=ALICE).json()
        eq(pr["cardData"], {"license": "mit", "tags": ["yes"], "base_model": "acme/tiny-model"}, "cardData")
        ok("a.txt" not in [s["rfilename"] for s in pr["siblings"]], "deleted in the PR")
        # tokens and storage rules
        r = _post(api + "/commit/main", _ndjson(("header", {"summary": "x"})), ALICE, "application/x-ndjson")
        eq(r.status, 403, "read token commit")
        eq(r.json()["error"], "you must use a write token to upload to a repository.", "read token message")
        eq(_post(w.endpoint + "/api/models/acme/tiny-model/commit/main", _ndjson(("header", {"summary": "x"})),
                 {"Authorization": "Bearer fixture-token-bob-write"}, "application/x-ndjson").status, 403,
           "bob may not write to acme")
        data = b"x" * 10
        r = _post(w.endpoint + "/alice/new-model.git/info/lfs/objects/batch",
                  {"operation": "upload", "transfers": ["basic"], "objects": [
                      {"oid": hashlib.sha256(data).hexdigest(), "size": 10}]}, ALICE_W,
                  "application/vnd.git-lfs+json")
        href = r.json()["objects"][0]["actions"]["upload"]["href"]
        eq(req(href, "PUT", ALICE, data).status, 400, "storage refuses Authorization")
        eq(req(href, "PUT", {}, b"y" * 10).status, 400, "storage checks the bytes")
        eq(req(href.replace("X-Amz-Signature=", "X-Amz-Signature=0"), "PUT", {}, data).status, 403, "signature")
        eq(req(w.endpoint + "/alice/new-model.git/info/lfs/objects/batch", "POST",
               dict(ALICE_W, **{"Content-Type": "application/vnd.git-lfs+json", "Accept": "application/json"}),
               b'{"operation":"upload","objects":[]}').status, 406, "the LFS media type in Accept")
        # faults on write steps
        w.add_fault({"repo": "alice/new-model", "where": "commit", "kind": "status", "status": 503, "times": 1})
        eq(_post(api + "/commit/main", _ndjson(("header", {"summary": "x"})), ALICE_W,
                 "application/x-ndjson").status, 503, "commit fault")
        w.add_fault({"repo": "alice/new-model", "where": "upload", "kind": "drop", "times": 1})
        try:
            r = req(href, "PUT", {}, data)
            raise AssertionError("dropped part answered %d" % r.status)
        except (http.client.HTTPException, ConnectionError):
            pass
        eq(req(href, "PUT", {}, data).status, 200, "after the drop")
        methods = [(e["method"], e["path"].split("?")[0]) for e in w.requests()]
        ok(("POST", "/api/repos/create") in methods and ("PUT", "/upload/" + hashlib.sha256(data).hexdigest())
           in methods, "the log shows writes")


@test
def write_api_storage_on_disk(hub):
    tmp = tempfile.mkdtemp()
    try:
        with FixtureHub(lfs_part_size=1000, storage_dir=tmp) as w:
            eq(_post(w.endpoint + "/api/repos/create", {"name": "disk", "organization": "alice"}, ALICE_W).status,
               200, "create")
            big, small = os.urandom(2500), b"small object"
            _push_lfs(w, "alice/disk", big)
            _push_lfs(w, "alice/disk", small)
            ok(len(os.listdir(tmp)) == 4, "three parts and one object in files: %s" % os.listdir(tmp))
            r = _post(w.endpoint + "/api/models/alice/disk/commit/main", _ndjson(
                ("header", {"summary": "on disk"}),
                ("lfsFile", {"path": "b.bin", "algo": "sha256", "oid": hashlib.sha256(big).hexdigest(),
                             "size": len(big)}),
                ("lfsFile", {"path": "s.bin", "algo": "sha256", "oid": hashlib.sha256(small).hexdigest(),
                             "size": len(small)})), ALICE_W, "application/x-ndjson")
            eq(r.status, 200, "commit")
            for p, data in (("b.bin", big), ("s.bin", small)):
                r, _ = follow(w, w.endpoint + "/alice/disk/resolve/main/" + p, ALICE)
                eq(r.body, data, "read back " + p)
            # a part of the wrong size is refused, and the connection still works
            r = _post(w.endpoint + "/alice/disk.git/info/lfs/objects/batch",
                      {"operation": "upload", "transfers": ["multipart"], "objects": [
                          {"oid": hashlib.sha256(b"z" * 1500).hexdigest(), "size": 1500}]}, ALICE_W,
                      "application/vnd.git-lfs+json")
            url = r.json()["objects"][0]["actions"]["upload"]["header"]["00001"]
            eq(req(url, "PUT", {}, b"z" * 999).status, 400, "short part")
            eq(req(url, "PUT", {}, b"z" * 1000).status, 200, "right part")
    finally:
        shutil.rmtree(tmp)


def main():
    t0 = time.time()
    passed = failed = 0
    only = sys.argv[1:]
    hub = FixtureHub().start()
    try:
        for fn in TESTS + [lambda h: cli_test(), lambda h: tls_test()]:
            name = getattr(fn, "__name__", "?")
            if name == "<lambda>":
                name = "cli" if passed + failed == len(TESTS) else "tls"
            if only and name not in only:
                continue
            hub.clear_faults()
            hub.page_size = 1000
            t = time.time()
            try:
                fn(hub)
                passed += 1
                print("ok   %-28s %.2fs" % (name, time.time() - t))
            except Exception as e:  # noqa: BLE001
                failed += 1
                print("FAIL %-28s %s" % (name, e))
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
            sys.stdout.flush()
    finally:
        hub.stop()
    print("total %.1fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
