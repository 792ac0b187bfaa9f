#!/usr/bin/env python3
"""The fixture Hub: a strict, realistic stand-in for the Hugging Face Hub.

Python 3 standard library only.  Serves the repositories described in
test-data/hub/ (see test-data/hub/README.md) on two loopback listeners:

* the Hub itself on http(s)://127.0.0.1:PORT (API, /resolve/, /raw/,
  /api/resolve-cache/), and
* a "CDN" on http(s)://localhost:CDNPORT that serves LFS blobs through
  pre-signed URLs (a different host name: clients must not send
  Authorization there).

Writes (hub-protocol.md, "Uploading"): POST /api/repos/create; POST
/api/{type}s/{repo}/preupload/{rev}; POST /{prefix}{repo}.git/info/lfs/objects/batch
(basic, or multipart in parts of `lfs_part_size` bytes above
`lfs_multipart_threshold`: both settable in FixtureHub() and /__fixture/config;
storage_dir=DIR streams storage PUTs to files there instead of memory)
and .../verify; PUT of objects and parts to pre-signed /upload/ URLs on the CDN
host (an Authorization header is refused, each part's length and the object's
sha256 are checked); POST /api/complete_multipart; POST
/api/{type}s/{repo}/commit/{rev}[?create_pr=1] (NDJSON, parentCommit -> 412,
card metadata checked -> 400). Faults match them with where = create,
preupload, batch, upload (status, or drop: the part is read and no answer
comes), complete, verify or commit.

Run it:   python3 tests/hub/hub.py [--data DIR] [--port N] [--cdn-port N]
                                   [--tls DIR] [--page-size N] [--log FILE]
The first line on stdout is HF_ENDPOINT=..., the second HF_CDN=...

Import it:
    from hub import FixtureHub, commit_of, files_at
    hub = FixtureHub(); hub.start(); ...; hub.stop()
"""

import base64
import binascii
import datetime
import email.utils
import fnmatch
import gzip
import hashlib
import hmac
import http.server
import json
import mimetypes
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DATA_DIR = os.path.join(REPO_ROOT, "test-data", "hub")

REPO_TYPES = ("model", "dataset", "space")
HEX40 = re.compile(r"^[0-9a-f]{40}$")
CHUNK = 64 * 1024

# --------------------------------------------------------------------------
# Git and LFS primitives


def git_blob_sha1(data):
    """The git blob id of `data`: sha1("blob <len>\\0" + data)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def git_object_sha1(kind, body):
    h = hashlib.sha1(kind.encode() + b" %d\0" % len(body))
    h.update(body)
    return h.hexdigest()


def lfs_pointer(sha256_hex, size):
    """The git-LFS pointer text (bytes) for content with this sha256 and size."""
    return ("version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:%s\nsize %d\n" % (sha256_hex, size)).encode()


def generated_bytes(size, seed):
    """Deterministic pseudo-random content: SHAKE-256("hf-fixture:<seed>"), `size` bytes."""
    if size == 0:
        return b""
    return hashlib.shake_256(("hf-fixture:%s" % seed).encode()).digest(size)


def iso_date(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def parse_date(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def valid_repo_id(repo_id):
    if not repo_id or len(repo_id) > 96 or "--" in repo_id or ".." in repo_id:
        return False
    parts = repo_id.split("/")
    if len(parts) > 2:
        return False
    for p in parts:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", p) or p[0] in "-." or p[-1] in "-.":
            return False
    return True


# --------------------------------------------------------------------------
# Tiny YAML emitter for model-card front matter (block style, JSON-quoted
# strings whenever a plain scalar could be misread).

_YAML_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_ ./+-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if _YAML_PLAIN.match(s) and s.lower() not in _YAML_WORDS and not s.endswith(" "):
        return s
    return json.dumps(s, ensure_ascii=False)


def _yaml_lines(obj, ind):
    pad = "  " * ind
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = _yaml_scalar(k)
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, key))
                out.extend(_yaml_lines(v, ind + 1))
            elif isinstance(v, (dict, list)):
                out.append("%s%s: %s" % (pad, key, "{}" if isinstance(v, dict) else "[]"))
            else:
                out.append("%s%s: %s" % (pad, key, _yaml_scalar(v)))
    else:
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = _yaml_lines(item, ind + 1)
                sub[0] = pad + "- " + sub[0][len(pad) + 2:]
                out.extend(sub)
            else:
                out.append("%s- %s" % (pad, _yaml_scalar(item)))
    return out


def card_text(card, body):
    return "---\n" + "\n".join(_yaml_lines(card, 0)) + "\n---\n" + body


# --------------------------------------------------------------------------
# Content


class Blob:
    """File content, possibly generated lazily from a seed; hashes cached."""

    def __init__(self, size, data=None, seed=None):
        self.size = size
        self._data = data
        self.seed = seed
        self._sha256 = None
        self._sha1 = None
        self._gz = None
        self._lock = threading.Lock()

    def data(self):
        if self._data is None:
            with self._lock:
                if self._data is None:
                    self._data = generated_bytes(self.size, self.seed)
        return self._data

    @property
    def sha256(self):
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.data()).hexdigest()
        return self._sha256

    @property
    def git_sha1(self):
        if self._sha1 is None:
            self._sha1 = git_blob_sha1(self.data())
        return self._sha1

    def gzipped(self):
        if self._gz is None:
            self._gz = gzip.compress(self.data(), mtime=0)
        return self._gz


_BLOBS = {}
_BLOBS_LOCK = threading.Lock()


def _blob_for(key, make):
    with _BLOBS_LOCK:
        b = _BLOBS.get(key)
        if b is None:
            b = _BLOBS[key] = make()
        return b


class FileRef:
    """A file in a commit's tree."""

    __slots__ = ("blob", "lfs", "card")

    def __init__(self, blob, lfs, card=None):
        self.blob, self.lfs, self.card = blob, lfs, card

    @property
    def size(self):
        return self.blob.size

    @property
    def pointer(self):
        return lfs_pointer(self.blob.sha256, self.blob.size) if self.lfs else None

    @property
    def oid(self):
        """The git blob id as the tree shows it (of the pointer for LFS files)."""
        return git_blob_sha1(self.pointer) if self.lfs else self.blob.git_sha1

    @property
    def etag(self):
        return self.blob.sha256 if self.lfs else self.blob.git_sha1


def _file_from_spec(spec, where):
    card = None
    if "size" in spec:
        size, seed = int(spec["size"]), spec.get("seed", 0)
        blob = _blob_for(("gen", size, str(seed)), lambda: Blob(size, seed=seed))
    else:
        if "text" in spec:
            text = spec["text"]
        elif "lines" in spec:
            text = "".join(line + "\n" for line in spec["lines"])
        elif "json" in spec:
            text = json.dumps(spec["json"], indent=2, ensure_ascii=False) + "\n"
        elif "base64" in spec:
            text = None
        else:
            raise ValueError("%s: file needs text, lines, json, base64 or size" % where)
        if "card" in spec:
            card = spec["card"]
            text = card_text(card, text)
        data = base64.b64decode(spec["base64"]) if text is None else text.encode("utf-8")
        blob = _blob_for(("data", data), lambda: Blob(len(data), data=data))
    return FileRef(blob, bool(spec.get("lfs", False)), card)


# --------------------------------------------------------------------------
# Repositories


def _tree_extra(x, where):
    """A tree entry a hostile server adds to a commit's listing: {"path", "type"}."""
    if not isinstance(x, dict) or not isinstance(x.get("path"), str) or \
            x.get("type", "file") not in ("file", "directory"):
        raise ValueError("%s: tree_extra entries are {\"path\": ..., \"type\": file|directory}"
                         % where)
    return {"path": x["path"], "type": x.get("type", "file")}


class Commit:
    def __init__(self, index, label, parent, epoch, message, files):
        self.index, self.label, self.parent = index, label, parent
        self.epoch, self.message, self.files = epoch, message, files
        self.tree_extra = []    # entries the listing shows beyond the files (hostile repos)
        self.sha = None
        self.dir_oids = {}      # "" for the root tree, "a/b" for folders
        self.children = None    # dir -> sorted [(name, is_dir)]

    @property
    def date(self):
        return iso_date(self.epoch)

    @property
    def title(self):
        return self.message.split("\n", 1)[0]


def _git_tree_key(item):
    name, is_dir = item
    return name.encode("utf-8") + (b"/" if is_dir else b"")


class Repo:
    def __init__(self, desc, source):
        self.desc = desc
        self.source = source
        self.id = desc["id"]
        self.type = desc.get("type", "model")
        if self.type not in REPO_TYPES:
            raise ValueError("%s: bad type %r" % (source, self.type))
        if not valid_repo_id(self.id):
            raise ValueError("%s: invalid repo id %r" % (source, self.id))
        self.private = bool(desc.get("private", False))
        self.gated = desc.get("gated", False)
        if self.gated not in (False, "auto", "manual"):
            raise ValueError("%s: gated must be false, 'auto' or 'manual'" % source)
        self.gate_api = bool(desc.get("gate_api", False))
        self.disabled = bool(desc.get("disabled", False))
        self.direct_resolve = bool(desc.get("direct_resolve", False))
        self.renamed_to = desc.get("renamed_to")
        self.readers = set(desc.get("readers", []))
        self.approved = set(desc.get("approved", []))
        self.info_extra = dict(desc.get("info", {}))
        self.default_branch = desc.get("default_branch", "main")
        self._lock = threading.Lock()
        self._built = False
        self._last_commit_cache = {}

    # -- building -------------------------------------------------------
    def build(self):
        if self._built:
            return self
        with self._lock:
            if not self._built:
                self._build()
                self._built = True
        return self

    def _build(self):
        self.lfs_index = {}
        if self.renamed_to:
            self.commits, self.branches, self.tags, self.pulls, self.by_sha = [], {}, {}, {}, {}
            return
        labels = {}
        commits = []
        for i, c in enumerate(self.desc["commits"]):
            where = "%s commit %d" % (self.source, i)
            label = c.get("id", str(i))
            if "parent" in c:
                parent = None if c["parent"] is None else labels[c["parent"]]
            else:
                parent = i - 1 if i > 0 else None
            base = {} if parent is None or c.get("reset") else dict(commits[parent].files)
            for spec in c.get("generate", []):
                group = int(spec.get("group", spec["count"]))
                for n in range(int(spec["count"])):
                    fmt = {"i": n, "g": n // group}
                    fs = dict(spec)
                    fs["text"] = spec.get("text", "{i}\n").format(**fmt)
                    for k in ("count", "group", "pattern"):
                        fs.pop(k, None)
                    base[spec["pattern"].format(**fmt)] = _file_from_spec(fs, where)
            for path, spec in c.get("files", {}).items():
                if spec is None:
                    base.pop(path, None)
                else:
                    base[path] = _file_from_spec(spec, "%s %s" % (where, path))
            for path in c.get("delete", []):
                base.pop(path, None)
            commit = Commit(i, label, parent, parse_date(c["date"]), c["message"], base)
            commit.tree_extra = [_tree_extra(x, where) for x in c.get("tree_extra", [])]
            labels[label] = i
            commits.append(commit)
        self.commits = commits
        for c in commits:
            self._hash_commit(c)
        self.by_sha = {c.sha: c for c in commits}
        for c in commits:
            for p, f in c.files.items():
                if f.lfs:
                    self.lfs_index.setdefault(f.blob.sha256, (f.blob, set()))[1].add(p)
        resolve = lambda d: {k: commits[labels[v]] for k, v in d.items()}
        self.branches = resolve(self.desc.get("branches", {"main": commits[-1].label}))
        self.tags = resolve(self.desc.get("tags", {}))
        self.pulls = {"refs/pr/%s" % k: v for k, v in resolve(self.desc.get("pulls", {})).items()}
        if self.default_branch not in self.branches:
            raise ValueError("%s: no default branch %s" % (self.source, self.default_branch))

    def _hash_commit(self, c):
        # nested tree: dir -> {name: (is_dir, FileRef|None)}
        kids = {"": {}}
        for path in c.files:
            parts = path.split("/")
            for d in range(1, len(parts)):
                parent, name = "/".join(parts[:d - 1]), parts[d - 1]
                kids.setdefault(parent, {})[name] = True
                kids.setdefault("/".join(parts[:d]), {})
            kids["/".join(parts[:-1])][parts[-1]] = False
        c.children = {d: sorted(v.items(), key=_git_tree_key) for d, v in kids.items()}

        def tree_oid(d):
            body = b""
            for name, is_dir in c.children[d]:
                p = d + "/" + name if d else name
                if is_dir:
                    body += b"40000 " + name.encode() + b"\0" + bytes.fromhex(tree_oid(p))
                else:
                    body += b"100644 " + name.encode() + b"\0" + bytes.fromhex(c.files[p].oid)
            oid = git_object_sha1("tree", body)
            c.dir_oids[d] = oid
            return oid

        root = tree_oid("")
        ident = "Fixture Hub <fixture@hub.invalid> %d +0000" % c.epoch
        text = "tree %s\n" % root
        if c.parent is not None:
            text += "parent %s\n" % self.commits[c.parent].sha
        text += "author %s\ncommitter %s\n\n%s\n" % (ident, ident, c.message.rstrip("\n"))
        c.sha = git_object_sha1("commit", text.encode("utf-8"))

    # -- revisions --------------------------------------------------------
    def rev_names(self):
        self.build()
        names = {}
        for k, v in self.branches.items():
            names[k] = v
            names["refs/heads/" + k] = v
        for k, v in self.tags.items():
            names.setdefault(k, v)
            names["refs/tags/" + k] = v
        names.update(self.pulls)
        names["HEAD"] = self.branches[self.default_branch]
        return names

    def resolve(self, rev):
        self.build()
        if HEX40.match(rev or ""):
            return self.by_sha.get(rev)
        return self.rev_names().get(rev)

    def split_rev_path(self, s):
        """Split "REV/PATH" where REV may itself contain slashes (longest match)."""
        self.build()
        best = None
        for name in list(self.rev_names()) + list(self.by_sha):
            if (s == name or s.startswith(name + "/")) and (best is None or len(name) > len(best)):
                best = name
        if best is None:
            parts = s.split("/")
            n = 3 if len(parts) >= 3 and parts[0] == "refs" else 1
            best = "/".join(parts[:n])
        return best, s[len(best) + 1:]

    # -- trees ------------------------------------------------------------
    def lookup(self, commit, path):
        """('file', FileRef) | ('directory', oid) | None."""
        f = commit.files.get(path)
        if f is not None:
            return ("file", f)
        if path in commit.children:
            return ("directory", commit.dir_oids[path])
        return None

    def walk(self, commit, path, recursive):
        """Entry paths under directory `path` in git order, pre-order when recursive."""
        out = []

        def visit(d):
            for name, is_dir in commit.children[d]:
                p = d + "/" + name if d else name
                out.append(p)
                if is_dir and recursive:
                    visit(p)
        visit(path)
        return out

    def last_commit(self, commit, path):
        key = (commit.index, path)
        hit = self._last_commit_cache.get(key)
        if hit is not None:
            return hit

        def value(c):
            r = self.lookup(c, path)
            return None if r is None else (r[1].oid if r[0] == "file" else r[1])
        c = commit
        v = value(c)
        while c.parent is not None and value(self.commits[c.parent]) == v:
            c = self.commits[c.parent]
        self._last_commit_cache[key] = c
        return c

    def entry(self, commit, path, expand=False):
        kind, obj = self.lookup(commit, path)
        if kind == "file":
            e = {"type": "file", "oid": obj.oid, "size": obj.size, "path": path}
            if obj.lfs:
                e["lfs"] = {"oid": obj.blob.sha256, "size": obj.size, "pointerSize": len(obj.pointer)}
                e["xetHash"] = hashlib.sha256(b"xet:" + obj.blob.sha256.encode()).hexdigest()
        else:
            e = {"type": "directory", "oid": obj, "size": 0, "path": path}
        if expand:
            lc = self.last_commit(commit, path)
            e["lastCommit"] = {"id": lc.sha, "title": lc.title, "date": lc.date}
            if kind == "file":
                e["securityFileStatus"] = {"status": "safe", "avScan": {"status": "safe"},
                                           "pickleImportScan": {"status": "unscanned", "pickleImports": []}}
        return e

    def add_commit(self, parent, message, files):
        """A new commit on top of `parent` (the caller moves the refs)."""
        c = Commit(len(self.commits), None, parent.index, int(time.time()), message, files)
        c.label = str(c.index)
        self._hash_commit(c)
        self.commits = self.commits + [c]
        self.by_sha = dict(self.by_sha, **{c.sha: c})
        for p, f in files.items():
            if f.lfs:
                self.lfs_index.setdefault(f.blob.sha256, (f.blob, set()))[1].add(p)
        return c

    def card_data(self, commit):
        f = commit.files.get("README.md")
        return f.card if f is not None else None


class Store:
    """All repositories and tokens of a data directory."""

    def __init__(self, data_dir=None):
        self.data_dir = os.path.abspath(data_dir or DEFAULT_DATA_DIR)
        with open(os.path.join(self.data_dir, "tokens.json"), encoding="utf-8") as f:
            t = json.load(f)
        self.tokens = t.get("tokens", {})
        self.users = t.get("users", {})
        self.repos = {}
        self.objects = {}       # LFS objects uploaded: sha256 -> Blob
        rdir = os.path.join(self.data_dir, "repos")
        for name in sorted(os.listdir(rdir)):
            if not name.endswith(".json"):
                continue
            path = os.path.join(rdir, name)
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            for desc in doc if isinstance(doc, list) else [doc]:
                r = Repo(desc, name)
                key = (r.type, r.id)
                if key in self.repos:
                    raise ValueError("%s: duplicate repository %s" % (name, r.id))
                self.repos[key] = r

    def get(self, repo_type, repo_id):
        return self.repos.get((repo_type, repo_id))

    def repo(self, repo_id, repo_type="model"):
        r = self.get(repo_type, repo_id)
        if r is None:
            raise KeyError("%s %s" % (repo_type, repo_id))
        return r.build()

    def lfs_lookup(self, sha):
        """(Blob or None, sorted [(repo_id, path)]) for an LFS sha256.

        Looks in the repositories built so far (a CDN URL comes from a
        resolve, which built its repository) and builds the rest if needed."""
        for build_all in (False, True):
            blob, pairs = None, set()
            for r in self.repos.values():
                if build_all:
                    r.build()
                if not r._built:
                    continue
                hit = r.lfs_index.get(sha)
                if hit:
                    blob = hit[0]
                    pairs.update((r.id, p) for p in hit[1])
            if blob is not None:
                return blob, sorted(pairs)
        return None, []

    # -- helpers for tests -------------------------------------------------
    def commit_of(self, repo_id, rev="main", repo_type="model"):
        c = self.repo(repo_id, repo_type).resolve(rev)
        if c is None:
            raise KeyError("unknown revision %r of %s" % (rev, repo_id))
        return c.sha

    def files_at(self, repo_id, rev="main", repo_type="model"):
        r = self.repo(repo_id, repo_type)
        c = r.resolve(rev)
        if c is None:
            raise KeyError("unknown revision %r of %s" % (rev, repo_id))
        out = {}
        for p in sorted(c.files):
            f = c.files[p]
            out[p] = {"path": p, "size": f.size, "lfs": f.lfs, "sha256": f.blob.sha256,
                      "git_oid": f.oid, "etag": f.etag,
                      "pointer": f.pointer, "content": f.blob.data}
        return out

    def refs_of(self, repo_id, repo_type="model"):
        r = self.repo(repo_id, repo_type)
        out = {"branches": {k: v.sha for k, v in r.branches.items()},
               "tags": {k: v.sha for k, v in r.tags.items()},
               "pulls": {k: v.sha for k, v in r.pulls.items()}}
        out["default"] = r.default_branch
        return out


_DEFAULT_STORE = None


def _store(data_dir=None):
    global _DEFAULT_STORE
    if data_dir is not None:
        return Store(data_dir)
    if _DEFAULT_STORE is None:
        _DEFAULT_STORE = Store()
    return _DEFAULT_STORE


def commit_of(repo_id, rev="main", repo_type="model", data_dir=None):
    """The 40-hex commit that `rev` (branch, tag, refs/pr/N, HEAD, sha) resolves to."""
    return _store(data_dir).commit_of(repo_id, rev, repo_type)


def files_at(repo_id, rev="main", repo_type="model", data_dir=None):
    """path -> {path, size, lfs, sha256, git_oid, etag, pointer, content()} at `rev`."""
    return _store(data_dir).files_at(repo_id, rev, repo_type)


def refs_of(repo_id, repo_type="model", data_dir=None):
    """{"branches": {name: sha}, "tags": {...}, "pulls": {"refs/pr/1": sha}, "default": "main"}."""
    return _store(data_dir).refs_of(repo_id, repo_type)


# --------------------------------------------------------------------------
# Faults

SPACE_SDKS = ("gradio", "streamlit", "docker", "static")

FAULT_KINDS = {"status", "drop", "short", "corrupt", "stall", "unsafe_paths",
               "endless_cursor", "bad_json", "overlong", "redirect_loop", "redirect_scheme",
               "redirect_host", "drip", "expire_url", "info_override",
               "empty_range", "lost_answer"}
FAULT_WHERE = {"api", "tree", "resolve", "cdn", "search", "any",
               "create", "preupload", "batch", "upload", "complete", "verify", "commit"}
BODY_KINDS = ("drop", "short", "corrupt", "stall")
REDIRECT_KINDS = ("redirect_loop", "redirect_scheme", "redirect_host")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_REDIRECT_LOCATION = "file:///etc/passwd"
DEFAULT_UNSAFE_PATHS = ["../x", "/etc/passwd", "a\\b", "ctl\u0001x", "a//b"]

STATUS_TEXT = {
    408: "Request Timeout", 429: "Rate limit reached. Please retry later.",
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Timeout",
}


def check_fault(f):
    if not isinstance(f, dict):
        raise ValueError("a fault must be an object")
    if not isinstance(f.get("repo"), str):
        raise ValueError("a fault needs a 'repo'")
    if f.get("kind") not in FAULT_KINDS:
        raise ValueError("unknown fault kind %r" % f.get("kind"))
    if f.get("where", "any") not in FAULT_WHERE:
        raise ValueError("unknown fault where %r" % f.get("where"))
    if f["kind"] == "status" and not 400 <= int(f.get("status", 0)) <= 599:
        raise ValueError("status fault needs a 4xx/5xx 'status'")
    if f["kind"] == "endless_cursor" and f.get("mode", "repeat") not in ("repeat", "new"):
        raise ValueError("endless_cursor mode is 'repeat' or 'new'")
    if f["kind"] == "redirect_loop" and f.get("mode", "self") not in ("self", "new"):
        raise ValueError("redirect_loop mode is 'self' or 'new'")
    if f["kind"] in REDIRECT_KINDS and int(f.get("status", 302)) not in REDIRECT_STATUSES:
        raise ValueError("a redirect fault's status is one of %s" % (REDIRECT_STATUSES,))
    if f["kind"] == "redirect_host" and f.get("port", "hub") not in ("hub", "cdn") and \
            not 0 < int(f["port"]) < 65536:
        raise ValueError("redirect_host port is 'hub', 'cdn' or a port number")
    if f["kind"] == "overlong" and int(f.get("extra", 1000)) < 1:
        raise ValueError("overlong extra must be >= 1")
    if f["kind"] == "drip" and (int(f.get("bytes", 1)) < 1 or float(f.get("interval", 0.5)) <= 0):
        raise ValueError("drip sends bytes >= 1 every interval > 0 seconds")
    if f["kind"] == "expire_url" and (int(f.get("uses", 1)) < 0 or float(f.get("seconds", 3600)) < 0):
        raise ValueError("expire_url needs uses >= 0 and seconds >= 0")
    if f["kind"] == "info_override" and not isinstance(f.get("fields"), dict):
        raise ValueError("info_override needs 'fields', an object")
    if "times" in f and f["times"] is not None and int(f["times"]) < 0:
        raise ValueError("times must be >= 0")
    g = dict(f)
    g.setdefault("where", "any")
    return g


class Route:
    """What a request is about, for fault matching."""

    def __init__(self, where, repo_ids=(), paths=(), pairs=None):
        self.where = where          # api | tree | resolve | cdn
        self.pairs = pairs if pairs is not None else [(rid, p) for rid in repo_ids for p in (paths or [None])]

    def matches(self, f):
        w = f.get("where", "any")
        if not (w == "any" or w == self.where or (w == "api" and self.where == "tree")
                or (w == "resolve" and self.where == "cdn")):
            return False
        for rid, p in self.pairs:
            if rid != f["repo"]:
                continue
            if "path" in f and f["path"] is not None:
                if p is None or not fnmatch.fnmatchcase(p, f["path"]):
                    continue
            return True
        return False


# --------------------------------------------------------------------------
# HTTP plumbing


class Resp:
    def __init__(self, status, headers=None, body=b"", content=None):
        self.status = status
        self.headers = list(headers or [])
        self.body = body                # bytes / memoryview to send
        self.content = content          # for file content: (start offset in file) or "encoded"


def _parse_range(value, size):
    """None (serve everything), 'unsat', or (start, end) inclusive."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value or "")
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0 or size == 0:
            return "unsat"
        return (max(0, size - n), size - 1)
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if m.group(2) and end < start:
        return None
    if start >= size:
        return "unsat"
    return (start, min(end, size - 1))


def _accepts_gzip(value):
    for part in (value or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if bits[0].lower() == "gzip":
            q = 1.0
            for b in bits[1:]:
                if b.startswith("q="):
                    try:
                        q = float(b[2:])
                    except ValueError:
                        q = 0
            return q > 0
    return False


def _truthy(v):
    return str(v).lower() in ("1", "true", "yes", "on")


def _qs(query):
    return urllib.parse.parse_qs(query, keep_blank_values=True)


def _q1(qs, name, default=None):
    v = qs.get(name)
    return v[-1] if v else default


def _request_id():
    return "Root=1-%08x-%s" % (int(time.time()), os.urandom(12).hex())


def _json_bytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _quote_path(path):
    return "/".join(urllib.parse.quote(seg, safe="") for seg in path.split("/"))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, fixture, listener, ssl_ctx, family=socket.AF_INET):
        self.address_family = family
        self.fixture = fixture
        self.listener = listener
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, handler)

    def server_bind(self):
        import socketserver
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        if self.ssl_ctx is not None:
            request.settimeout(30)
            try:
                request = self.ssl_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.ssl_ctx is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError, OSError)):
            return
        if os.environ.get("HUB_DEBUG"):
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FixtureHub/1.0"
    sys_version = ""
    timeout = 120

    def version_string(self):
        return self.server_version

    def log_message(self, *args):
        if os.environ.get("HUB_DEBUG"):
            sys.stderr.write("hub: " + (args[0] % args[1:]) + "\n")

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.fixture._conn_open(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.server.fixture._conn_closed(self.connection)

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            out = b""
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline(65537)
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        n = int(n)
        if n < 0 or n > 64 << 20:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n)

    def _dispatch(self):
        fx = self.server.fixture
        try:
            try:
                if (self.server.listener == "cdn" and self.command == "PUT" and fx.storage_dir
                        and self.headers.get("Content-Length")):
                    self.body = None            # storage streams it to disk (WriteMixin._receive)
                else:
                    self.body = self._read_body()
            except ValueError:
                self.close_connection = True
                self._send(Resp(400, [], b'{"error":"Bad request"}'), log=False)
                return
            if self.server.listener == "hub" and self.path.startswith("/__fixture/"):
                self._send(fx._control(self), log=False)
                return
            fx._handle(self)
        except (ConnectionError, TimeoutError, ssl.SSLError, BrokenPipeError, OSError):
            self.close_connection = True

    # -- writing ------------------------------------------------------------
    def _send(self, resp, route=None, log=True, overlong=(), drip=()):
        fx = self.server.fixture
        head = self.command == "HEAD"
        body = resp.body if resp.body is not None else b""
        names = {k.lower() for k, _ in resp.headers}
        faults = []
        if route is not None and resp.content is not None and resp.status in (200, 206) and not head and len(body):
            start = resp.content if isinstance(resp.content, int) else 0
            n = len(body)

            def ok(f):
                if f["kind"] == "corrupt":
                    return start <= int(f.get("offset", 0)) < start + n
                return True
            faults = fx._take_faults(route, BODY_KINDS + ("overlong",), ok)
        over = [f for f in faults if f["kind"] == "overlong"] + list(overlong)
        faults = [f for f in faults if f["kind"] != "overlong"]
        if over and not head and len(body):
            # a Content-Length larger than the body, which is sent whole, then the connection closes
            extra = max(int(f.get("extra", 1000)) for f in over)
            resp = Resp(resp.status, [(k, v) for k, v in resp.headers if k.lower() != "content-length"] +
                        [("Content-Length", str(len(body) + extra))], body, resp.content)
            names.add("content-length")
            self.close_connection = True
        if log:
            fx._log_request(self, resp.status)
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if "x-request-id" not in names:
            self.send_header("X-Request-Id", _request_id())
        if self.close_connection:
            self.send_header("Connection", "close")
        if head or not len(body):
            self.end_headers()
            return
        if drip:
            # a few bytes now and then: never slow enough for a low-speed limit, never done
            self.end_headers()
            self.wfile.flush()
            step, pause = int(drip[0].get("bytes", 1)), float(drip[0].get("interval", 0.5))
            mv = memoryview(body)
            for i in range(0, len(mv), step):
                self.wfile.write(mv[i:i + step])
                self.wfile.flush()
                time.sleep(pause)
            return
        if not faults and len(body) <= CHUNK:
            self._headers_buffer.append(b"\r\n" + bytes(body))    # one write for small answers
            self.flush_headers()
            return
        self.end_headers()
        if not faults:
            mv = memoryview(body)
            for i in range(0, len(mv), CHUNK):
                self.wfile.write(mv[i:i + CHUNK])
            self.wfile.flush()
            return
        self._write_faulty(memoryview(body), resp.content if isinstance(resp.content, int) else 0, faults)

    def _write_faulty(self, mv, start, faults):
        total = len(mv)
        limit = total
        dropping = False
        for f in faults:
            if f["kind"] in ("drop", "short") and int(f.get("after", 0)) < limit:
                limit = max(0, int(f.get("after", 0)))
                dropping = True
        stalls = sorted((int(f.get("after", 0)), float(f.get("seconds", 1))) for f in faults if f["kind"] == "stall")
        corrupt = {int(f.get("offset", 0)) - start for f in faults if f["kind"] == "corrupt"}
        pos = 0
        while True:
            while stalls and stalls[0][0] <= pos:
                self.wfile.flush()
                time.sleep(stalls.pop(0)[1])
            if pos >= limit:
                break
            end = min(pos + CHUNK, limit)
            if stalls and stalls[0][0] < end:
                end = stalls[0][0]
            chunk = mv[pos:end]
            hit = [o for o in corrupt if pos <= o < end]
            if hit:
                chunk = bytearray(chunk)
                for o in hit:
                    chunk[o - pos] ^= 0xFF
            self.wfile.write(chunk)
            pos = end
        self.wfile.flush()
        if dropping:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------
# The fixture


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ensure_tls_material(tls_dir):
    """Create DIR/ca.pem, DIR/server.pem, DIR/server.key with the openssl CLI if absent."""
    os.makedirs(tls_dir, exist_ok=True)
    ca, crt, key = (os.path.join(tls_dir, n) for n in ("ca.pem", "server.pem", "server.key"))
    if all(os.path.exists(p) for p in (ca, crt, key)):
        return ca, crt, key
    tmp = tempfile.mkdtemp(prefix=".tls-", dir=tls_dir)
    try:
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", "/CN=hf-galaxy fixture CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash", cwd=tmp)
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=tmp)
        with open(os.path.join(tmp, "ext.cnf"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-set_serial", "0x%s" % os.urandom(8).hex(), "-days", "3650",
                 "-extfile", "ext.cnf", "-out", "server.pem", cwd=tmp)
        for n in ("server.key", "server.pem", "ca.pem"):   # ca.pem last: it marks completion
            os.replace(os.path.join(tmp, n), os.path.join(tls_dir, n))
    finally:
        for n in os.listdir(tmp):
            os.unlink(os.path.join(tmp, n))
        os.rmdir(tmp)
    return ca, crt, key


FILE_VERBS = {"resolve", "raw", "blob", "tree", "commit", "commits", "discussions", "edit"}
API_VERBS = {"revision", "tree", "paths-info", "refs", "commits", "commit", "preupload", "treesize",
             "discussions", "settings", "xet-read-token", "notebook", "parquet", "scan", "super-squash"}
UNGATED_FILES = {"README.md", ".gitattributes"}


# --------------------------------------------------------------------------
# Writing: repository creation, preupload, the LFS batch API and its storage,
# commits and pull requests (hub-protocol.md, "Uploading" and "Model and
# dataset cards").

DEFAULT_GITATTRIBUTES = "".join("%s filter=lfs diff=lfs merge=lfs -text\n" % p for p in (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
    "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*"))
LFS_SIZE = 10 << 20                 # larger files are LFS, and may not be sent inline
KNOWN_LICENSES = (
    "apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 "
    "bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear "
    "c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 "
    "cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 "
    "cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl "
    "ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 "
    "lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa "
    "unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3 llama3.1 llama3.2 llama3.3 gemma "
    "apple-ascl apple-amlr unknown other").split()


class YamlError(ValueError):
    pass


def _yaml_plain(s):
    """A plain scalar as YAML 1.1 readers take it."""
    low = s.lower()
    if s in ("", "~") or low == "null":
        return None
    if low in ("true", "yes", "on", "y"):
        return True
    if low in ("false", "no", "off", "n"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?", s):
        return float(s)
    return s


_DQ_ESC = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
           "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
           "L": "\u2028", "P": "\u2029"}


def _yaml_scalar_at(s, i):
    """(value, end) of the scalar starting at s[i] (quoted, flow sequence or plain), one line."""
    if s[i] == '"':
        out, i = [], i + 1
        while i < len(s) and s[i] != '"':
            if s[i] == "\\":
                c = s[i + 1:i + 2]
                n = {"x": 2, "u": 4, "U": 8}.get(c)
                if n:
                    out.append(chr(int(s[i + 2:i + 2 + n], 16)))
                    i += 2 + n
                    continue
                if c not in _DQ_ESC:
                    raise YamlError("bad escape")
                out.append(_DQ_ESC[c])
                i += 2
                continue
            out.append(s[i])
            i += 1
        if i >= len(s):
            raise YamlError("unterminated double-quoted string")
        return "".join(out), i + 1
    if s[i] == "'":
        out, i = [], i + 1
        while True:
            j = s.find("'", i)
            if j < 0:
                raise YamlError("unterminated single-quoted string")
            out.append(s[i:j])
            if s[j + 1:j + 2] == "'":
                out.append("'")
                i = j + 2
                continue
            return "".join(out), j + 1
    if s[i] == "[":
        items, i = [], i + 1
        while True:
            while i < len(s) and s[i] == " ":
                i += 1
            if i < len(s) and s[i] == "]":
                return items, i + 1
            if s[i] in "'\"":
                v, i = _yaml_scalar_at(s, i)
            else:
                m = re.compile(r"[^,\]]*").match(s, i)
                v, i = _yaml_plain(m.group(0).strip()), m.end()
            items.append(v)
            while i < len(s) and s[i] == " ":
                i += 1
            if i < len(s) and s[i] == ",":
                i += 1
            elif i >= len(s) or s[i] != "]":
                raise YamlError("bad flow sequence")
    if s[i] == "{":
        if s[i:].startswith("{}"):
            return {}, i + 2
        raise YamlError("flow mappings are not read")
    if s[i] in "&*!|>@`%":
        raise YamlError("unsupported YAML")
    end = s.find(" #", i)
    text = s[i:] if end < 0 else s[i:end]
    return _yaml_plain(text.strip()), i + len(text)


def _yaml_rest_empty(s, i):
    rest = s[i:].strip()
    if rest and not rest.startswith("#"):
        raise YamlError("unexpected text after a value")


def _yaml_key(line, i):
    """(key, index after ':') when line[i:] starts a mapping entry, else None."""
    if line[i] in "'\"":
        k, j = _yaml_scalar_at(line, i)
        if line[j:j + 1] == ":" and (j + 1 == len(line) or line[j + 1] == " "):
            return k, j + 1
        return None
    m = re.compile(r"([^:#'\"\[\]{},][^:#]*?):( |$)").match(line, i)
    if not m:
        return None
    return m.group(1), m.end(1) + 1


def parse_front_matter_yaml(text):
    """The block-style YAML subset cards use (mappings, sequences, one-line scalars and flow
    sequences) as Python values. Anything else raises YamlError."""
    lines = []
    for raw in text.split("\n"):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise YamlError("tab in indentation")
        if raw.strip() and not raw.lstrip().startswith("#"):
            lines.append((len(raw) - len(raw.lstrip(" ")), raw.rstrip()))
    pos = [0]

    def block(ind):
        """A node whose lines are indented by exactly `ind`."""
        n, line = lines[pos[0]]
        if line[n:].startswith("- ") or line[n:] == "-":
            out = []
            while pos[0] < len(lines) and lines[pos[0]][0] == ind and lines[pos[0]][1][ind:ind + 1] == "-":
                line = lines[pos[0]][1]
                rest = line[ind + 1:]
                if rest.strip() == "":
                    pos[0] += 1
                    out.append(block(lines[pos[0]][0]) if pos[0] < len(lines) and lines[pos[0]][0] > ind else None)
                    continue
                sub = ind + 1 + (len(rest) - len(rest.lstrip(" ")))
                if _yaml_key(line, sub):
                    lines[pos[0]] = (sub, " " * sub + line[sub:])
                    out.append(block(sub))
                else:
                    v, j = _yaml_scalar_at(line, sub)
                    _yaml_rest_empty(line, j)
                    out.append(v)
                    pos[0] += 1
            return out
        out = {}
        while pos[0] < len(lines) and lines[pos[0]][0] == ind:
            line = lines[pos[0]][1]
            if line[ind:ind + 1] == "-":
                break
            kv = _yaml_key(line, ind)
            if kv is None:
                raise YamlError("expected 'key: value' in %r" % line.strip())
            key, j = kv
            while j < len(line) and line[j] == " ":
                j += 1
            pos[0] += 1
            if j >= len(line) or line[j] == "#":
                if pos[0] < len(lines) and (lines[pos[0]][0] > ind or (
                        lines[pos[0]][0] == ind and lines[pos[0]][1][ind:ind + 1] == "-")):
                    out[str(key)] = block(lines[pos[0]][0])
                else:
                    out[str(key)] = None
            else:
                v, j = _yaml_scalar_at(line, j)
                _yaml_rest_empty(line, j)
                out[str(key)] = v
        return out

    if not lines:
        return None
    if len(lines) == 1 and lines[0][1].lstrip()[:1] in "[{'\"":
        v, j = _yaml_scalar_at(lines[0][1], lines[0][0])
        _yaml_rest_empty(lines[0][1], j)
        return v
    v = block(lines[0][0])
    if pos[0] != len(lines):
        raise YamlError("bad indentation near %r" % lines[pos[0]][1].strip())
    return v


def split_card(data):
    """(front matter text or None, ok) of a README.md's bytes."""
    text = data.decode("utf-8")
    s = text.lstrip()
    if not (s.startswith("---\n") or s.startswith("---\r\n")):
        return None
    body = s.split("\n", 1)[1]
    m = re.search(r"^---[ \t\r]*$", body, re.M)
    if not m:
        return None
    return body[:m.start()]


def card_problems(card):
    """The Hub's objections to card metadata, one string each."""
    if not isinstance(card, dict):
        return ["metadata must be a YAML mapping"]
    out = []

    def strings(key, check=None, what=None):
        v = card.get(key)
        if v is None:
            return
        vals = v if isinstance(v, list) else [v]
        for x in vals:
            if not isinstance(x, str):
                out.append('"%s" must be a string or a list of strings' % key)
                return
            if check and not check(x):
                out.append('"%s": "%s" is not %s' % (key, x, what))
    strings("license", lambda x: x in KNOWN_LICENSES, "a license identifier the Hub knows")
    strings("base_model", lambda x: "/" in x and valid_repo_id(x), "a repository id")
    strings("datasets", valid_repo_id, "a repository id")
    strings("language", lambda x: re.fullmatch(r"[a-z]{2,3}([-_][A-Za-z0-9]+)*", x) is not None,
            "a language code")
    strings("tags")
    strings("library_name")
    if "pipeline_tag" in card and not isinstance(card["pipeline_tag"], str):
        out.append('"pipeline_tag" must be a string')
    return out


def _gitattributes_lfs(data):
    pats = []
    for line in data.decode("utf-8", "replace").splitlines():
        bits = line.split()
        if len(bits) >= 2 and not bits[0].startswith("#") and "filter=lfs" in bits[1:]:
            pats.append(bits[0])
    return pats


def _lfs_by_pattern(pats, path):
    base = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in p else base, p) for p in pats)


def upload_path_problem(p):
    if not isinstance(p, str) or not p or p.startswith("/") or "\\" in p or "\0" in p:
        return "invalid path"
    segs = p.split("/")
    if any(s in ("", ".", "..") for s in segs):
        return "invalid path"
    if segs[0] == ".git" or any(ord(c) < 0x20 for c in p):
        return "invalid path"
    return None


class Received:
    """A storage PUT's body: in memory, or (with storage_dir) in a file; hashed once."""

    def __init__(self, size, sha256, md5, data=None, path=None):
        self.size, self.sha256, self.md5, self.data, self.path = size, sha256, md5, data, path

    def chunks(self):
        if self.data is not None:
            yield self.data
            return
        with open(self.path, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    return
                yield b


class PartsBlob(Blob):
    """An object put together from parts on disk; read only when someone asks for it."""

    def __init__(self, size, sha256, parts):
        super().__init__(size)
        self._sha256 = sha256
        self.parts = parts

    def data(self):
        if self._data is None:
            with self._lock:
                if self._data is None:
                    self._data = b"".join(c for p in self.parts for c in p.chunks())
        return self._data


class WriteMixin:
    """The write API of FixtureHub (mixed into it)."""

    def _receive(self, h):
        """The body of a storage PUT: read already, or streamed to storage_dir."""
        if h.body is not None:
            data = bytes(h.body)
            return Received(len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(),
                            data=data)
        n = int(h.headers.get("Content-Length") or 0)
        sha, md5 = hashlib.sha256(), hashlib.md5()
        fd, path = tempfile.mkstemp(prefix="put-", dir=self.storage_dir)
        left = n
        with os.fdopen(fd, "wb") as f:
            while left > 0:
                b = h.rfile.read(min(1 << 20, left))
                if not b:
                    break
                f.write(b)
                sha.update(b)
                md5.update(b)
                left -= len(b)
        return Received(n - left, sha.hexdigest(), md5.hexdigest(), path=path)

    def _init_write(self, lfs_part_size, lfs_multipart_threshold):
        self.lfs_part_size = int(lfs_part_size)
        self.lfs_multipart_threshold = int(lfs_multipart_threshold)
        self._write_lock = threading.RLock()
        self._uploads = {}          # upload id -> {"oid", "size", "chunk", "parts": {n: bytes}}

    # -- who may write ---------------------------------------------------------
    def _token_role(self, h):
        auth = h.headers.get("Authorization") or ""
        tok = auth.strip().partition(" ")[2].strip()
        return self.store.tokens.get(tok, {}).get("role", "read")

    def _may_write_namespace(self, user, namespace):
        return user is not None and (namespace == user or
                                     namespace in self.store.users.get(user, {}).get("orgs", []))

    def _write_denied(self, h, user):
        """The answer for a request that needs a write token, or None when it has one."""
        if user is None:
            return self._error(401, "Invalid credentials in Authorization header")
        if self._token_role(h) != "write":
            return self._error(403, "you must use a write token to upload to a repository.")
        return None

    def _write_access(self, h, rtype, repo_id, user, route):
        """The repository a write request may change, or None (the answer sent)."""
        f = self._take_faults(route, ("status",))
        if f:
            h._send(self._status_fault(f[0]))
            return None
        denied = self._write_denied(h, user)
        if denied is not None:
            h._send(denied)
            return None
        repo = self.store.get(rtype, repo_id) if valid_repo_id(repo_id) else None
        if repo is None or repo.renamed_to or (repo.private and user not in repo.readers):
            h._send(self._error(404, "Repository not found", "RepoNotFound"))
            return None
        if repo.disabled:
            h._send(self._error(403, "Access to this resource is disabled."))
            return None
        if not self._may_write_namespace(user, repo_id.split("/")[0] if "/" in repo_id else user):
            h._send(self._error(403, "You don't have the rights to write to %s %s" % (rtype, repo_id)))
            return None
        return repo.build()

    # -- create ----------------------------------------------------------------
    def _api_create_repo(self, h, user):
        route = Route("create", pairs=[])
        try:
            d = json.loads(h.body or b"{}")
            name = d.get("name")
            org = d.get("organization")
            rtype = d.get("type") or "model"
            private = bool(d.get("private", False))
            if not isinstance(name, str) or (org is not None and not isinstance(org, str)):
                raise ValueError
        except (ValueError, AttributeError):
            return h._send(self._error(400, "Invalid request body"))
        repo_id = name if "/" in name or org is None else "%s/%s" % (org, name)
        if "/" not in repo_id and user is not None:
            repo_id = "%s/%s" % (user, repo_id)
        route = Route("create", [repo_id])
        f = self._take_faults(route, ("status",))
        if f:
            return h._send(self._status_fault(f[0]))
        denied = self._write_denied(h, user)
        if denied is not None:
            return h._send(denied)
        if rtype not in REPO_TYPES:
            return h._send(self._error(400, "Invalid repo type"))
        # a Space is made with its SDK (huggingface_hub's create_repo insists on space_sdk and
        # sends it as "sdk"); other repository types have none
        sdk = d.get("sdk")
        if rtype == "space" and sdk not in SPACE_SDKS:
            return h._send(self._error(400, "Invalid Space SDK: %r (one of %s)"
                                            % (sdk, ", ".join(SPACE_SDKS))))
        if rtype != "space" and sdk is not None:
            return h._send(self._error(400, "Only a Space has an SDK"))
        if not valid_repo_id(repo_id):
            return h._send(self._error(400, "Invalid repo name: %s" % repo_id))
        if not self._may_write_namespace(user, repo_id.split("/")[0]):
            return h._send(self._error(403, "You don't have the rights to create a %s under the namespace "
                                            "\"%s\"" % (rtype, repo_id.split("/")[0])))
        with self._write_lock:
            if self.store.get(rtype, repo_id) is not None:
                return h._send(self._error(409, "You already created this %s repo" % rtype))
            desc = {"id": repo_id, "type": rtype, "private": private, "readers": [user],
                    "commits": [{"date": iso_date(int(time.time())), "message": "initial commit",
                                 "files": {".gitattributes": {"text": DEFAULT_GITATTRIBUTES}}}]}
            self.store.repos[(rtype, repo_id)] = Repo(desc, "created").build()
        prefix = "" if rtype == "model" else rtype + "s/"
        return h._send(self._json(200, {"url": "%s/%s%s" % (self.endpoint, prefix, repo_id),
                                        "name": repo_id, "id": repo_id}))

    # -- preupload ---------------------------------------------------------------
    def _branch_head(self, repo, rev):
        """The commit a branch (or existing refs/pr/N) points to, or None."""
        if rev.startswith("refs/heads/"):
            rev = rev[len("refs/heads/"):]
        if rev in repo.branches:
            return repo.branches[rev]
        return repo.pulls.get(rev)

    def _api_preupload(self, h, repo, rev):
        head = self._branch_head(repo, rev)
        if head is None:
            return h._send(self._rev_error(rev))
        try:
            files = json.loads(h.body or b"{}")["files"]
            if not isinstance(files, list):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return h._send(self._error(400, "Invalid request body"))
        ga = head.files.get(".gitattributes")
        pats = _gitattributes_lfs(ga.blob.data()) if ga is not None else []
        out = []
        for f in files:
            try:
                path, size = f["path"], int(f["size"])
                sample = base64.b64decode(f.get("sample", ""), validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error):
                return h._send(self._error(400, "Invalid request body"))
            if upload_path_problem(path):
                return h._send(self._error(400, "Invalid path: %s" % path))
            lfs = size > LFS_SIZE or _lfs_by_pattern(pats, path) or b"\0" in sample[:512]
            e = {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            cur = head.files.get(path)
            if cur is not None:
                e["oid"] = cur.blob.sha256 if cur.lfs else cur.blob.git_sha1
            out.append(e)
        return self._send_api_json(h, Route("preupload", [repo.id]), {"files": out})

    # -- LFS batch -----------------------------------------------------------------
    def _signed(self, what, ttl=3600):
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return [("X-Amz-Date", date), ("X-Amz-Expires", str(ttl)),
                ("X-Amz-Signature", self._sign(what, date, str(ttl)))]

    def _check_signed(self, what, qs):
        date, expires, sig = (_q1(qs, k, "") for k in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"))
        if not sig or not hmac.compare_digest(sig, self._sign(what, date, expires)):
            return "Request has invalid signature"
        try:
            t0 = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            if t0.timestamp() + int(expires) < time.time():
                return "Request has expired"
        except ValueError:
            return "Request has invalid date"
        return None

    def has_object(self, repo, oid, size):
        with self._write_lock:
            b = self.store.objects.get(oid)
        if b is None and oid in repo.lfs_index:
            b = repo.lfs_index[oid][0]
        return b is not None and b.size == size

    def _lfs_batch(self, h, rtype, repo_id, user):
        route = Route("batch", [repo_id])
        repo = self._write_access(h, rtype, repo_id, user, route)
        if repo is None:
            return
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/vnd.git-lfs+json":
            return h._send(self._error(422, "Content-Type must be application/vnd.git-lfs+json"))
        accept = [a.split(";")[0].strip() for a in (h.headers.get("Accept") or "").split(",")]
        if "application/vnd.git-lfs+json" not in accept:
            return h._send(self._error(406, "Accept must be application/vnd.git-lfs+json"))
        try:
            d = json.loads(h.body)
            objs = d["objects"]
            if d.get("operation") != "upload" or not isinstance(objs, list):
                raise ValueError
            transfers = d.get("transfers") or ["basic"]
        except (ValueError, KeyError, TypeError):
            return h._send(self._error(400, "Invalid LFS batch request"))
        prefix = "" if rtype == "model" else rtype + "s/"
        out = []
        for o in objs:
            oid, size = (o.get("oid"), o.get("size")) if isinstance(o, dict) else (None, None)
            if not isinstance(oid, str) or not re.fullmatch(r"[0-9a-f]{64}", oid) or \
                    not isinstance(size, int) or size < 0:
                out.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid object"}})
                continue
            e = {"oid": oid, "size": size, "authenticated": True}
            if self.has_object(repo, oid, size):
                out.append(e)
                continue
            verify = {"href": "%s/%s%s.git/info/lfs/objects/verify" % (self.endpoint, prefix, repo_id)}
            if size > self.lfs_multipart_threshold and "multipart" in transfers:
                uid = os.urandom(12).hex()
                chunk = self.lfs_part_size
                with self._write_lock:
                    self._uploads[uid] = {"oid": oid, "size": size, "chunk": chunk, "parts": {}}
                header = {"chunk_size": str(chunk)}
                for n in range(1, (size + chunk - 1) // chunk + 1):
                    q = [("uploadId", uid), ("partNumber", str(n))] + self._signed("part:%s:%d" % (uid, n))
                    header["%05d" % n] = "%s/upload/%s?%s" % (self.cdn, oid, urllib.parse.urlencode(q))
                q = [("uploadId", uid)] + self._signed("complete:" + uid)
                e["actions"] = {"upload": {"href": "%s/api/complete_multipart?%s" % (
                    self.endpoint, urllib.parse.urlencode(q)), "header": header}, "verify": verify}
            else:
                q = self._signed("put:%s:%d" % (oid, size))
                e["actions"] = {"upload": {"href": "%s/upload/%s?size=%d&%s" % (
                    self.cdn, oid, size, urllib.parse.urlencode(q))}, "verify": verify}
            out.append(e)
        body = _json_bytes({"transfer": "multipart" if "multipart" in transfers else "basic",
                            "objects": out, "hash_algo": "sha256"})
        return h._send(Resp(200, [("Content-Type", "application/vnd.git-lfs+json")], body))

    def _lfs_verify(self, h, rtype, repo_id, user):
        route = Route("verify", [repo_id])
        repo = self._write_access(h, rtype, repo_id, user, route)
        if repo is None:
            return
        try:
            d = json.loads(h.body)
            oid, size = d["oid"], int(d["size"])
        except (ValueError, KeyError, TypeError):
            return h._send(self._error(400, "Invalid verify request"))
        if not self.has_object(repo, oid, size):
            return h._send(self._error(404, "Object %s not found" % oid))
        return h._send(self._json(200, {"success": True}))

    def _complete_multipart(self, h, query):
        qs = _qs(query)
        uid = _q1(qs, "uploadId", "")
        with self._write_lock:
            up = self._uploads.get(uid)
        route = Route("complete", pairs=[(rid, None) for (_, rid) in self.store.repos])
        f = self._take_faults(route, ("status",))
        if f:
            return h._send(self._status_fault(f[0]))
        bad = self._check_signed("complete:" + uid, qs)
        if bad or up is None:
            return h._send(self._error(403, bad or "Unknown upload"))
        try:
            d = json.loads(h.body)
            parts = d["parts"]
            if d.get("oid") != up["oid"] or not isinstance(parts, list):
                raise ValueError
            nums = [int(p["partNumber"]) for p in parts]
            etags = [str(p["etag"]).strip('"') for p in parts]
        except (ValueError, KeyError, TypeError):
            return h._send(self._error(400, "Invalid completion request"))
        want = (up["size"] + up["chunk"] - 1) // up["chunk"]
        if nums != list(range(1, want + 1)):
            return h._send(self._error(400, "The list of parts is incomplete or out of order"))
        with self._write_lock:
            stored = dict(up["parts"])
        for n, tag in zip(nums, etags):
            if n not in stored or stored[n].md5 != tag:
                return h._send(self._error(400, "Part %d was not uploaded, or its ETag differs" % n))
        parts = [stored[n] for n in nums]
        sha = hashlib.sha256()
        for p in parts:
            for c in p.chunks():
                sha.update(c)
        if sum(p.size for p in parts) != up["size"] or sha.hexdigest() != up["oid"]:
            return h._send(self._error(400, "The parts do not make object %s" % up["oid"]))
        if all(p.data is not None for p in parts):
            blob = Blob(up["size"], data=b"".join(p.data for p in parts))
        else:
            blob = PartsBlob(up["size"], up["oid"], parts)
        with self._write_lock:
            self.store.objects[up["oid"]] = blob
            self._uploads.pop(uid, None)
        return h._send(self._json(200, {"success": True}))

    def _storage_put(self, h, raw, query):
        """PUT of an object or of a part to the pre-signed storage URLs on the CDN host."""
        m = re.fullmatch(r"/upload/([0-9a-f]{64})", raw)
        qs = _qs(query)
        if h.command != "PUT" or not m:
            return h._send(self._cdn_error(405, "MethodNotAllowed", "The specified method is not allowed."))
        oid = m.group(1)
        uid = _q1(qs, "uploadId")
        with self._write_lock:
            up = self._uploads.get(uid) if uid else None
        pairs = [(rid, None) for (_, rid) in self.store.repos]
        route = Route("upload", pairs=pairs)
        f = self._take_faults(route, ("status", "drop"))
        if f and f[0]["kind"] == "drop":
            h.close_connection = True       # the part is lost: no answer at all
            fx_log = self._log_request
            fx_log(h, 0)
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if h.body is None:
            h.close_connection = True      # an answer before the body is read ends the connection
        if f:
            return h._send(self._status_fault(f[0]))
        if h.headers.get("Authorization") is not None:
            return h._send(self._cdn_error(400, "InvalidArgument",
                                           "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                                           "query parameter, Signature query string parameter or the "
                                           "Authorization header should be specified"))
        if uid is not None:
            try:
                n = int(_q1(qs, "partNumber", ""))
            except ValueError:
                n = 0
            bad = self._check_signed("part:%s:%d" % (uid, n), qs)
            if bad or up is None or up["oid"] != oid:
                return h._send(self._cdn_error(403, "AccessDenied", bad or "No such upload"))
            count = (up["size"] + up["chunk"] - 1) // up["chunk"]
            want = up["chunk"] if n < count else up["size"] - up["chunk"] * (count - 1)
            got = self._receive(h)
            if not 1 <= n <= count or got.size != want:
                return h._send(self._cdn_error(400, "InvalidPart", "Part %d must be %d bytes, got %d" %
                                               (n, want, got.size)))
            with self._write_lock:
                up["parts"][n] = got
        else:
            try:
                size = int(_q1(qs, "size", ""))
            except ValueError:
                size = -1
            bad = self._check_signed("put:%s:%d" % (oid, size), qs)
            if bad:
                return h._send(self._cdn_error(403, "AccessDenied", bad))
            got = self._receive(h)
            if got.size != size or got.sha256 != oid:
                return h._send(self._cdn_error(400, "BadDigest",
                                               "The content does not match the object's sha256 and size"))
            with self._write_lock:
                self.store.objects[oid] = (Blob(got.size, data=got.data) if got.data is not None
                                           else PartsBlob(got.size, got.sha256, [got]))
        h.close_connection = False
        return h._send(Resp(200, [("ETag", '"%s"' % got.md5)], b""))

    # -- commit ----------------------------------------------------------------------
    def _api_commit(self, h, repo, rev, qs):
        create_pr = _truthy(_q1(qs, "create_pr", "0"))
        head = self._branch_head(repo, rev)
        if head is None:
            return h._send(self._rev_error(rev))
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/x-ndjson":
            return h._send(self._error(400, "Content-Type must be application/x-ndjson"))
        try:
            ops = [json.loads(line) for line in h.body.decode("utf-8").split("\n") if line.strip()]
            if not ops or not isinstance(ops[0], dict) or ops[0].get("key") != "header":
                raise ValueError("the first line must be the header")
            header = ops[0]["value"]
            summary = header["summary"]
            if not isinstance(summary, str) or not summary.strip():
                raise ValueError("a commit needs a summary")
            description = header.get("description") or ""
            parent = header.get("parentCommit")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
            return h._send(self._error(400, "Invalid commit body: %s" % e))
        with self._write_lock:
            head = self._branch_head(repo, rev)
            if parent is not None and parent != head.sha:
                return h._send(self._error(412, "A commit has happened since."))
            files = dict(head.files)
            for op in ops[1:]:
                try:
                    key, v = op["key"], op["value"]
                    path = v["path"]
                except (KeyError, TypeError):
                    return h._send(self._error(400, "Invalid commit operation"))
                if upload_path_problem(path):
                    return h._send(self._error(400, "Invalid path: %r" % path))
                if key == "file":
                    try:
                        if v.get("encoding") != "base64":
                            raise ValueError
                        data = base64.b64decode(v["content"], validate=True)
                    except (ValueError, KeyError, binascii.Error):
                        return h._send(self._error(400, "Invalid content for %s" % path))
                    if len(data) > LFS_SIZE or b"\0" in data:
                        return h._send(self._error(
                            400, "Your push was rejected because it contains binary files or files "
                                 "larger than 10 MiB. Please use git-lfs to store them: %s" % path))
                    card = None
                    if path == "README.md":
                        problems = []
                        try:
                            fm = split_card(data)
                            card = parse_front_matter_yaml(fm) if fm is not None else None
                            if fm is not None and card is not None:
                                problems = card_problems(card)
                        except (YamlError, UnicodeDecodeError, ValueError, IndexError):
                            problems = ["invalid YAML in the front matter"]
                        if problems:
                            msg = "Invalid metadata in README.md.\n" + "\n".join("- " + p for p in problems)
                            return h._send(Resp(400, [("Content-Type", "application/json; charset=utf-8"),
                                                      ("X-Error-Message", msg.replace("\n", " "))],
                                                _json_bytes({"error": msg})))
                    files[path] = FileRef(_blob_for(("data", data), lambda: Blob(len(data), data=data)),
                                          False, card)
                elif key == "lfsFile":
                    oid, size = v.get("oid"), v.get("size")
                    if v.get("algo", "sha256") != "sha256" or not isinstance(size, int) or \
                            not isinstance(oid, str) or not self.has_object(repo, oid, size):
                        return h._send(self._error(
                            400, "Your push was rejected because an LFS pointer pointed to a file that "
                                 "does not exist: %s" % path))
                    blob = self.store.objects.get(oid) or repo.lfs_index[oid][0]
                    files[path] = FileRef(blob, True)
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        return h._send(self._error(404, "File %s does not exist" % path, "EntryNotFound"))
                elif key == "deletedFolder":
                    gone = [p for p in files if p.startswith(path.rstrip("/") + "/")]
                    if not gone:
                        return h._send(self._error(404, "Folder %s does not exist" % path, "EntryNotFound"))
                    for p in gone:
                        del files[p]
                else:
                    return h._send(self._error(400, "Unknown commit operation %r" % key))
            message = summary.strip() + ("\n\n" + description.strip() if description.strip() else "")
            c = repo.add_commit(head, message, files)
            prefix = "" if repo.type == "model" else repo.type + "s/"
            out = {"success": True, "commitOid": c.sha, "commitMessage": message, "hookOutput": "",
                   "commitUrl": "%s/%s%s/commit/%s" % (self.endpoint, prefix, repo.id, c.sha)}
            if create_pr:
                n = max([int(k.rsplit("/", 1)[1]) for k in repo.pulls] + [0]) + 1
                repo.pulls = dict(repo.pulls, **{"refs/pr/%d" % n: c})
                out["pullRequestUrl"] = "%s/%s%s/discussions/%d" % (self.endpoint, prefix, repo.id, n)
            else:
                name = rev[len("refs/heads/"):] if rev.startswith("refs/heads/") else rev
                if name in repo.branches:
                    repo.branches = dict(repo.branches, **{name: c})
                else:
                    repo.pulls = dict(repo.pulls, **{name: c})
        if self._take_faults(Route("commit", [repo.id]), ("lost_answer",)):
            # the commit is made, but its answer never reaches the client
            h.close_connection = True
            self._log_request(h, 0)
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        return self._send_api_json(h, Route("commit", [repo.id]), out)


class FixtureHub(WriteMixin):
    def __init__(self, data_dir=None, tls_dir=None, page_size=1000, port=0, cdn_port=0, log_file=None,
                 lfs_part_size=16 << 20, lfs_multipart_threshold=None, storage_dir=None):
        self.store = Store(data_dir)
        self.storage_dir = storage_dir
        self._init_write(lfs_part_size, lfs_part_size if lfs_multipart_threshold is None
                         else lfs_multipart_threshold)
        self.tls_dir = tls_dir
        self.page_size = int(page_size)
        self._want_port, self._want_cdn_port = int(port), int(cdn_port)
        self._faults = []
        self._faults_lock = threading.Lock()
        self._log = []
        self._log_lock = threading.Lock()
        self._log_fp = open(log_file, "a", encoding="utf-8") if log_file else None
        self._secret = os.urandom(32)
        self._url_uses = {}     # x-fixture-url serial -> CDN requests it may still serve (expire_url)
        self._conns = set()
        self._conns_lock = threading.Lock()
        self._servers = []
        self.endpoint = self.cdn = self.ca_file = None
        self.port = self.cdn_port = None

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        ctx = None
        if self.tls_dir:
            ca, crt, key = ensure_tls_material(self.tls_dir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(crt, key)
            self.ca_file = ca
        scheme = "https" if ctx else "http"
        hub = _Server(("127.0.0.1", self._want_port), Handler, self, "hub", ctx)
        self._servers.append(hub)
        self.port = hub.server_address[1]
        # The CDN listens on 127.0.0.1 and, when possible, on ::1 at the same
        # port, since clients may resolve "localhost" to either.
        for attempt in range(50):
            cdn4 = _Server(("127.0.0.1", self._want_cdn_port), Handler, self, "cdn", ctx)
            port = cdn4.server_address[1]
            try:
                cdn6 = _Server(("::1", port), Handler, self, "cdn", ctx, family=socket.AF_INET6)
            except OSError as e:
                cdn6 = None
                if self._want_cdn_port == 0 and e.errno == 98 and attempt < 49:   # EADDRINUSE
                    cdn4.server_close()
                    continue
            break
        self._servers.append(cdn4)
        if cdn6 is not None:
            self._servers.append(cdn6)
        self.cdn_port = port
        self.endpoint = "%s://127.0.0.1:%d" % (scheme, self.port)
        self.cdn = "%s://localhost:%d" % (scheme, self.cdn_port)
        for s in self._servers:
            t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
        return self

    def stop(self):
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers = []
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._log_fp:
            self._log_fp.close()
            self._log_fp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()

    def _conn_open(self, c):
        with self._conns_lock:
            self._conns.add(c)

    def _conn_closed(self, c):
        with self._conns_lock:
            self._conns.discard(c)

    # -- faults -----------------------------------------------------------
    def set_faults(self, faults):
        checked = [check_fault(f) for f in faults]
        with self._faults_lock:
            self._faults = checked

    def add_fault(self, fault):
        f = check_fault(fault)
        with self._faults_lock:
            self._faults.append(f)

    def clear_faults(self):
        with self._faults_lock:
            self._faults = []

    def faults(self):
        with self._faults_lock:
            return [dict(f) for f in self._faults]

    def _take_faults(self, route, kinds, ok=None):
        out = []
        with self._faults_lock:
            for f in self._faults:
                if f["kind"] not in kinds:
                    continue
                if f.get("times") is not None and int(f["times"]) <= 0:
                    continue
                if not route.matches(f) or (ok is not None and not ok(f)):
                    continue
                if f.get("times") is not None:
                    f["times"] = int(f["times"]) - 1
                out.append(dict(f))
        return out

    def _unsafe_paths(self, repo_id):
        with self._faults_lock:
            out = []
            for f in self._faults:
                if f["kind"] == "unsafe_paths" and f["repo"] == repo_id:
                    out.extend(f.get("paths", DEFAULT_UNSAFE_PATHS))
            return out

    # -- log -------------------------------------------------------------------
    def requests(self):
        with self._log_lock:
            return [dict(e) for e in self._log]

    def clear_log(self):
        with self._log_lock:
            self._log = []

    def _log_request(self, h, status):
        headers = {}
        for k, v in h.headers.items():
            headers[k] = headers[k] + ", " + v if k in headers else v
        e = {"listener": h.server.listener, "method": h.command, "host": h.headers.get("Host"),
             "path": h.path, "headers": headers, "status": status}
        with self._log_lock:
            self._log.append(e)
            if self._log_fp:
                self._log_fp.write(json.dumps(e, ensure_ascii=False) + "\n")
                self._log_fp.flush()

    # -- helpers for tests ----------------------------------------------------
    def commit_of(self, repo_id, rev="main", repo_type="model"):
        return self.store.commit_of(repo_id, rev, repo_type)

    def files_at(self, repo_id, rev="main", repo_type="model"):
        return self.store.files_at(repo_id, rev, repo_type)

    def refs_of(self, repo_id, repo_type="model"):
        return self.store.refs_of(repo_id, repo_type)

    def repo(self, repo_id, repo_type="model"):
        return self.store.repo(repo_id, repo_type)

    def cdn_url(self, sha256, filename="blob", route=None):
        """A valid pre-signed CDN URL for an LFS blob. An expire_url fault matching route makes
        it one that expires after `seconds` (X-Amz-Expires), or that the CDN refuses once it
        has served `uses` requests, as S3 refuses an expired URL (403, AccessDenied)."""
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        expires = "3600"
        expiring = self._take_faults(route, ("expire_url",)) if route is not None else []
        if expiring:
            expires = str(int(float(expiring[0].get("seconds", 3600))))
        disp = "attachment; filename*=UTF-8''%s; filename=\"%s\";" % (
            urllib.parse.quote(filename, safe=""), filename.encode("ascii", "replace").decode().replace('"', "_"))
        q = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
             ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
             ("X-Amz-Credential", "FIXTUREKEY/%s/us-east-1/s3/aws4_request" % date[:8]),
             ("X-Amz-Date", date), ("X-Amz-Expires", expires),
             ("X-Amz-Signature", self._sign(sha256, date, expires)),
             ("X-Amz-SignedHeaders", "host"),
             ("response-content-disposition", disp), ("x-id", "GetObject")]
        if expiring and expiring[0].get("uses") is not None:
            # the URL is told apart from any other of the same second by a serial number
            with self._faults_lock:
                serial = "%d" % (len(self._url_uses) + 1)
                self._url_uses[serial] = int(expiring[0]["uses"])
            q.append(("x-fixture-url", serial))
        return "%s/lfs/%s?%s" % (self.cdn, sha256, urllib.parse.urlencode(q, quote_via=urllib.parse.quote))

    def _sign(self, sha256, date, expires):
        return hmac.new(self._secret, ("%s\n%s\n%s" % (sha256, date, expires)).encode(), "sha256").hexdigest()

    # -- control endpoints -----------------------------------------------------
    def _control(self, h):
        path = h.path.split("?", 1)[0]
        try:
            if path == "/__fixture/log" and h.command == "GET":
                return self._json(200, self.requests())
            if path == "/__fixture/log" and h.command == "DELETE":
                self.clear_log()
                return self._json(200, {"ok": True})
            if path == "/__fixture/faults" and h.command == "GET":
                return self._json(200, self.faults())
            if path == "/__fixture/faults" and h.command == "PUT":
                faults = json.loads(h.body or b"[]")
                if not isinstance(faults, list):
                    raise ValueError("faults must be a JSON array")
                self.set_faults(faults)
                return self._json(200, {"ok": True})
            if path == "/__fixture/faults" and h.command == "DELETE":
                self.clear_faults()
                return self._json(200, {"ok": True})
            if path == "/__fixture/config" and h.command in ("PUT", "POST"):
                cfg = json.loads(h.body or b"{}")
                if "page_size" in cfg:
                    if int(cfg["page_size"]) < 1:
                        raise ValueError("page_size must be >= 1")
                    self.page_size = int(cfg["page_size"])
                for k in ("lfs_part_size", "lfs_multipart_threshold"):
                    if k in cfg:
                        if int(cfg[k]) < 1:
                            raise ValueError("%s must be >= 1" % k)
                        setattr(self, k, int(cfg[k]))
                return self._json(200, {"ok": True, "page_size": self.page_size,
                                        "lfs_part_size": self.lfs_part_size,
                                        "lfs_multipart_threshold": self.lfs_multipart_threshold})
            if path == "/__fixture/config" and h.command == "GET":
                return self._json(200, {"page_size": self.page_size, "endpoint": self.endpoint, "cdn": self.cdn})
        except (ValueError, TypeError) as e:
            return self._json(400, {"error": str(e)})
        return self._json(404, {"error": "unknown fixture control endpoint"})

    # -- responses ---------------------------------------------------------------
    def _json(self, status, obj, headers=()):
        return Resp(status, [("Content-Type", "application/json; charset=utf-8")] + list(headers), _json_bytes(obj))

    def _error(self, status, message, code=None, headers=()):
        hs = [("Content-Type", "application/json; charset=utf-8"), ("X-Error-Message", message)]
        if code:
            hs.append(("X-Error-Code", code))
        return Resp(status, hs + list(headers), _json_bytes({"error": message}))

    def _other_host(self, f):
        """host:port a redirect_host fault sends clients to."""
        port = f.get("port", "hub")
        port = self.port if port == "hub" else self.cdn_port if port == "cdn" else int(port)
        return "%s:%d" % (f.get("host", "localhost"), port)

    def _redirect_fault(self, h, route):
        """Answers the request with the redirect of a redirect fault (True), or leaves it (False).

        redirect_loop: to the request's own target ("self"), or to it with a `hop` query
        parameter counting up ("new": every Location differs); redirect_scheme: to `location`;
        redirect_host: to the same target on another host name (never when the request
        already came there, so the client can follow it)."""
        def ok(f):
            return f["kind"] != "redirect_host" or (h.headers.get("Host") or "") != self._other_host(f)
        faults = self._take_faults(route, REDIRECT_KINDS, ok)
        if not faults:
            return False
        f = faults[0]
        if f["kind"] == "redirect_loop":
            loc = h.path
            if f.get("mode", "self") == "new":
                raw, _, query = h.path.partition("?")
                q = urllib.parse.parse_qsl(query, keep_blank_values=True)
                hop = int(dict(q).get("hop", "0")) + 1 if dict(q).get("hop", "0").isdigit() else 1
                loc = raw + "?" + urllib.parse.urlencode([(k, v) for k, v in q if k != "hop"] + [("hop", hop)])
        elif f["kind"] == "redirect_scheme":
            loc = f.get("location", DEFAULT_REDIRECT_LOCATION)
        else:
            loc = "%s://%s%s" % ("https" if self.ca_file else "http", self._other_host(f), h.path)
        h._send(Resp(int(f.get("status", 302)), [("Location", loc), ("Content-Type", "text/plain; charset=utf-8")],
                     ("Found. Redirecting to %s" % loc).encode()))
        return True

    def _status_fault(self, f):
        st = int(f["status"])
        hs = []
        if f.get("retry_after") is not None:
            hs.append(("Retry-After", str(f["retry_after"])))
        if f.get("ratelimit_t") is not None:
            hs.append(("RateLimit", '"api";r=0;t=%d' % int(f["ratelimit_t"])))
            hs.append(("RateLimit-Policy", '"fixed window";"api";q=1000;w=300'))
        if f.get("request_id") is not None:
            hs.append(("X-Request-Id", str(f["request_id"])))
        msg = f.get("message") or STATUS_TEXT.get(st, "Error %d" % st)
        r = self._error(st, msg, None, hs)
        if f.get("body_only"):    # the message in the JSON body alone, no X-Error-Message
            r.headers = [(k, v) for k, v in r.headers if k != "X-Error-Message"]
        return r

    # -- main dispatch -------------------------------------------------------
    def _handle(self, h):
        if h.server.listener == "cdn":
            return self._handle_cdn(h)
        raw, _, query = h.path.partition("?")
        segs = raw.split("/")[1:]
        # Credentials are checked first: a bad token fails everywhere on the Hub.
        user = None
        auth = h.headers.get("Authorization")
        if auth is not None:
            scheme, _, tok = auth.strip().partition(" ")
            tok = tok.strip()
            if scheme.lower() != "bearer" or tok not in self.store.tokens:
                return h._send(self._error(401, "Invalid credentials in Authorization header"))
            user = self.store.tokens[tok]["user"]
        if h.command not in ("GET", "HEAD", "POST"):
            return h._send(self._error(405, "Method not allowed"))
        if h.command == "POST" and raw == "/api/repos/create":
            return self._api_create_repo(h, user)
        if h.command == "POST" and raw == "/api/complete_multipart":
            return self._complete_multipart(h, query)
        m = re.fullmatch(r"/(?:(datasets|spaces)/)?(.+)\.git/info/lfs/objects/(batch|verify)", raw)
        if m and h.command == "POST":
            rtype = m.group(1)[:-1] if m.group(1) else "model"
            rid = urllib.parse.unquote(m.group(2))
            return (self._lfs_batch if m.group(3) == "batch" else self._lfs_verify)(h, rtype, rid, user)
        if segs and segs[0] == "api":
            if len(segs) == 2 and segs[1] in ("models", "datasets", "spaces") and h.command in ("GET", "HEAD"):
                return self._api_search(h, segs[1][:-1], query, user)
            if len(segs) >= 3 and segs[1] in ("models", "datasets", "spaces"):
                return self._handle_api(h, segs[1][:-1], segs[2:], query, user)
            if len(segs) >= 4 and segs[1] == "resolve-cache" and segs[2] in ("models", "datasets", "spaces"):
                return self._handle_resolve_cache(h, segs[2][:-1], segs[3:], query, user)
            if segs[1:] == ["whoami-v2"] and h.command in ("GET", "HEAD"):
                if user is None:
                    return h._send(self._error(401, "Invalid credentials in Authorization header"))
                u = self.store.users.get(user, {})
                tok = h.headers["Authorization"].split(" ", 1)[1].strip()
                return h._send(self._json(200, {
                    "type": "user", "id": hashlib.sha1(user.encode()).hexdigest()[:24], "name": user,
                    "fullname": u.get("fullname", user), "email": None, "emailVerified": False,
                    "isPro": False, "orgs": [{"type": "org", "name": o} for o in u.get("orgs", [])],
                    "auth": {"type": "access_token", "accessToken": {
                        "displayName": "fixture", "role": self.store.tokens[tok].get("role", "read")}}}))
            return h._send(self._error(404, "Sorry, we can't find the page you are looking for."))
        rtype = "model"
        if segs and segs[0] in ("datasets", "spaces"):
            rtype, segs = segs[0][:-1], segs[1:]
        if len(segs) >= 3:
            return self._handle_file(h, rtype, segs, query, user)
        return h._send(self._error(404, "Sorry, we can't find the page you are looking for."))

    def _split_repo(self, segs, verbs):
        """(repo_id, raw repo segments count) from raw path segments."""
        if len(segs) >= 2 and segs[1] not in verbs:
            n = 2
        else:
            n = 1
        return "/".join(urllib.parse.unquote(s) for s in segs[:n]), n

    def _access(self, h, rtype, repo_id, user, route, query, nseg, gated_check):
        """Repo-level checks. Returns (repo, None) or (None, Resp-already-sent)."""
        f = self._take_faults(route, ("status",))
        if f:
            h._send(self._status_fault(f[0]), drip=[f[0]] if f[0].get("drip") else ())
            return None
        if self._redirect_fault(h, route):
            return None
        repo = self.store.get(rtype, repo_id) if valid_repo_id(repo_id) else None
        if repo is not None and repo.renamed_to:
            raw = h.path.partition("?")[0]
            segs = raw.split("/")
            # replace the repo segments in the raw path
            idx = None
            for i in range(len(segs)):
                if "/".join(urllib.parse.unquote(s) for s in segs[i:i + nseg]) == repo_id:
                    idx = i
                    break
            segs[idx:idx + nseg] = [_quote_path(repo.renamed_to)]
            loc = "/".join(segs) + ("?" + query if query else "")
            h._send(Resp(307, [("Location", loc), ("Content-Type", "text/plain; charset=utf-8")],
                         ("Temporary Redirect. Redirecting to %s" % loc).encode()))
            return None
        if repo is None or (repo.private and user not in repo.readers):
            if user is None:
                h._send(self._error(401, "Repository not found", "RepoNotFound"))
            else:
                h._send(self._error(404, "Repository not found", "RepoNotFound"))
            return None
        if repo.disabled:
            h._send(self._error(403, "Access to this resource is disabled."))
            return None
        repo.build()
        if repo.gated and gated_check and user not in repo.approved:
            tname = "model" if rtype == "model" else rtype
            if user is None:
                h._send(self._error(401, "Access to %s %s is restricted. You must have access to it and be "
                                         "authenticated to access it. Please log in." % (tname, repo_id),
                                    "GatedRepo"))
            else:
                h._send(self._error(403, "Access to %s %s is restricted and you are not in the authorized list. "
                                         "Visit %s/%s to ask for access." % (tname, repo_id, self.endpoint, repo_id),
                                    "GatedRepo"))
            return None
        return repo

    def _rev_error(self, rev):
        return self._error(404, "Invalid rev id: %s" % urllib.parse.quote(rev, safe="/"), "RevisionNotFound")

    def _entry_error(self, commit):
        return self._error(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit.sha)])

    def _send_api_json(self, h, route, obj, headers=()):
        body = _json_bytes(obj)
        if self._take_faults(route, ("bad_json",)):
            body = body[: max(1, len(body) // 2)].rstrip(b"}]") + b',"'
        hs = [("Content-Type", "application/json; charset=utf-8")] + list(headers)
        if _accepts_gzip(h.headers.get("Accept-Encoding")):
            body = gzip.compress(body, mtime=0)
            hs += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        hs.append(("ETag", 'W/"%x-%s"' % (len(body), hashlib.sha1(body).hexdigest()[:27])))
        h._send(Resp(200, hs, body), overlong=self._take_faults(route, ("overlong",)),
                drip=self._take_faults(route, ("drip",)))

    # -- API ---------------------------------------------------------------------
    def _handle_api(self, h, rtype, segs, query, user):
        repo_id, n = self._split_repo(segs, API_VERBS)
        rest = segs[n:]
        verb = rest[0] if rest else ""
        qs = _qs(query)
        if verb == "tree":
            tpath = None
            known = self.store.get(rtype, repo_id)
            if known is not None and not known.renamed_to and len(rest) >= 2:
                tpath = known.build().split_rev_path(urllib.parse.unquote("/".join(rest[1:])))[1].rstrip("/")
            route = Route("tree", [repo_id], [tpath])
        elif verb in ("preupload", "commit") and h.command == "POST" and len(rest) >= 2:
            route = Route(verb, [repo_id])
            repo = self._write_access(h, rtype, repo_id, user, route)
            if repo is None:
                return
            rev = urllib.parse.unquote("/".join(rest[1:]))
            if verb == "preupload":
                return self._api_preupload(h, repo, rev)
            return self._api_commit(h, repo, rev, qs)
        else:
            route = Route("api", [repo_id])
        repo = self._access(h, rtype, repo_id, user, route, query, n, gated_check=None)
        if repo is None:
            return
        if repo.gated and repo.gate_api and user not in repo.approved:
            return self._gate(h, repo, rtype, user)
        if verb == "" and len(rest) <= 1 and h.command in ("GET", "HEAD"):
            return self._api_info(h, repo, repo.default_branch, qs, route)
        if verb == "revision" and len(rest) >= 2 and h.command in ("GET", "HEAD"):
            rev = urllib.parse.unquote("/".join(rest[1:]))
            return self._api_info(h, repo, rev, qs, route)
        if verb == "tree" and len(rest) >= 2 and h.command in ("GET", "HEAD"):
            return self._api_tree(h, repo, rest[1:], qs, query, route)
        if verb == "paths-info" and len(rest) >= 2 and h.command == "POST":
            return self._api_paths_info(h, repo, urllib.parse.unquote("/".join(rest[1:])), route)
        if verb == "refs" and len(rest) == 1 and h.command in ("GET", "HEAD"):
            return self._api_refs(h, repo, qs, route)
        return h._send(self._error(404, "Sorry, we can't find the page you are looking for."))

    def _gate(self, h, repo, rtype, user):
        if user is None:
            return h._send(self._error(401, "Access to %s %s is restricted. You must have access to it and be "
                                            "authenticated to access it. Please log in." % (rtype, repo.id),
                                       "GatedRepo"))
        return h._send(self._error(403, "Access to %s %s is restricted and you are not in the authorized list. "
                                        "Visit %s/%s to ask for access." % (rtype, repo.id, self.endpoint, repo.id),
                                   "GatedRepo"))

    def _api_info(self, h, repo, rev, qs, route):
        c = repo.resolve(rev)
        if c is None:
            return h._send(self._rev_error(rev))
        blobs = _truthy(_q1(qs, "blobs", "false"))
        siblings = []
        for p in sorted(c.files):
            s = {"rfilename": p}
            if blobs:
                f = c.files[p]
                s["blobId"] = f.oid
                s["size"] = f.size
                if f.lfs:
                    s["lfs"] = {"sha256": f.blob.sha256, "size": f.size, "pointerSize": len(f.pointer)}
            siblings.append(s)
        owner = repo.id.split("/")[0] if "/" in repo.id else repo.id
        info = {"_id": hashlib.sha1(("%s/%s" % (repo.type, repo.id)).encode()).hexdigest()[:24],
                "id": repo.id, "author": owner}
        if repo.type == "model":
            info["modelId"] = repo.id
        info.update({"sha": c.sha, "lastModified": c.date, "private": repo.private, "gated": repo.gated,
                     "disabled": repo.disabled, "downloads": 0, "likes": 0, "tags": []})
        info.update(repo.info_extra)
        card = repo.card_data(c)
        if card is not None:
            info["cardData"] = card
        info["createdAt"] = repo.commits[0].date
        info["siblings"] = siblings
        for f in self._take_faults(route, ("info_override",)):
            info.update(f["fields"])
        if blobs:
            info["usedStorage"] = sum(f.size for f in c.files.values())
        # expand: only _id, id and the fields asked for (the Hub's rule, as in its listing);
        # a field this type does not have is a 400
        expand = qs.get("expand", []) + qs.get("expand[]", [])
        if expand:
            bad = [e for e in expand if e not in self.SEARCH_FIELDS[repo.type]]
            if bad:
                return h._send(self._error(400, '"expand" must be one of %s'
                                           % ", ".join(self.SEARCH_FIELDS[repo.type]), "BadRequest"))
            info = dict({"_id": info["_id"], "id": info["id"]}, **{k: info[k] for k in expand if k in info})
        return self._send_api_json(h, route, info)

    def _api_tree(self, h, repo, rawrest, qs, query, route):
        s = urllib.parse.unquote("/".join(rawrest))
        rev, path = repo.split_rev_path(s)
        path = path.rstrip("/")
        c = repo.resolve(rev)
        if c is None:
            return h._send(self._rev_error(rev))
        route = Route("tree", [repo.id], [path])
        hit = repo.lookup(c, path) if path else ("directory", None)
        if hit is None or hit[0] != "directory":
            return h._send(self._entry_error(c))
        recursive = _truthy(_q1(qs, "recursive", "false"))
        expand = _truthy(_q1(qs, "expand", "false"))
        paths = repo.walk(c, path, recursive)
        extra = [{"path": p, "type": "file"} for f in self._take_faults(route, ("unsafe_paths",))
                 for p in f.get("paths", DEFAULT_UNSAFE_PATHS)]
        below = path + "/" if path else ""
        extra += [x for x in c.tree_extra if x["path"].startswith(below)
                  and (recursive or "/" not in x["path"][len(below):])]
        total = len(paths) + len(extra)
        size = min(50, self.page_size) if expand else self.page_size
        cursor = _q1(qs, "cursor")
        offset, nonce = 0, 0
        if cursor is not None:
            try:
                d = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
                offset, nonce = int(d["o"]), int(d.get("n", 0))
                if offset < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError, binascii.Error):
                return h._send(self._error(400, "Invalid cursor", "BadRequest"))
        endless = self._take_faults(route, ("endless_cursor",))
        if endless and endless[0].get("mode", "repeat") == "new" and total:
            eff = offset % total
        else:
            eff = offset
        page = []
        for i in range(eff, min(eff + size, total)):
            if i < len(paths):
                page.append(repo.entry(c, paths[i], expand))
            else:
                x = extra[i - len(paths)]
                data = b"unsafe path fixture\n"
                if x["type"] == "file":
                    page.append({"type": "file", "oid": git_blob_sha1(data), "size": len(data),
                                 "path": x["path"]})
                else:
                    page.append({"type": "directory", "oid": git_object_sha1("tree", b""),
                                 "size": 0, "path": x["path"]})
        next_cursor = None
        if endless:
            if endless[0].get("mode", "repeat") == "repeat":
                next_cursor = cursor if cursor is not None else self._cursor(offset + size, 0)
            else:
                next_cursor = self._cursor(offset + size, nonce + 1)
        elif offset + size < total:
            next_cursor = self._cursor(offset + size, 0)
        headers = []
        if next_cursor is not None:
            q = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k != "cursor"]
            q.append(("cursor", next_cursor))
            url = self.endpoint + h.path.partition("?")[0] + "?" + urllib.parse.urlencode(q)
            headers.append(("Link", '<%s>; rel="next"' % url))
        return self._send_api_json(h, route, page, headers)

    # -- search: GET /api/{models,datasets,spaces}?search=&author=&filter=&sort=&direction=&limit=&expand=
    SEARCH_FIELDS = {
        "model": ("author", "cardData", "createdAt", "disabled", "downloads", "gated", "lastModified",
                  "library_name", "likes", "pipeline_tag", "private", "sha", "siblings", "tags", "trendingScore"),
        "dataset": ("author", "cardData", "createdAt", "disabled", "downloads", "gated", "lastModified",
                    "likes", "private", "sha", "siblings", "tags", "trendingScore"),
        "space": ("author", "cardData", "createdAt", "disabled", "lastModified", "likes", "private", "sha",
                  "siblings", "tags", "trendingScore"),
    }
    SEARCH_SORTS = ("downloads", "likes", "lastModified", "trendingScore", "createdAt")

    def _search_fields(self, repo):
        """Everything the listing can say about a repository, at its default branch."""
        c = repo.resolve(repo.default_branch)
        info = {"_id": hashlib.sha1(("%s/%s" % (repo.type, repo.id)).encode()).hexdigest()[:24], "id": repo.id,
                "author": repo.id.split("/")[0] if "/" in repo.id else repo.id,
                "private": repo.private, "gated": repo.gated, "disabled": repo.disabled, "likes": 0,
                "trendingScore": 0, "tags": [], "createdAt": repo.commits[0].date,
                "lastModified": c.date if c else repo.commits[-1].date, "sha": c.sha if c else None}
        if repo.type != "space":
            info["downloads"] = 0
        info.update({k: v for k, v in repo.info_extra.items() if k in self.SEARCH_FIELDS[repo.type]})
        if repo.type == "model":
            info["modelId"] = repo.id
        return info

    def _api_search(self, h, rtype, query, user):
        """The Hub's repository listing: search (a case-insensitive part of the id), author,
        filter (every one a tag, the pipeline tag or the library), sort and direction, limit
        (the page size, at most 1000), expand (only _id, id and these fields; a field the
        type does not have is a 400), and Link pagination with a cursor."""
        route = Route("search", [rtype])
        f = self._take_faults(route, ("status",))
        if f:
            return h._send(self._status_fault(f[0]))
        qs = _qs(query)
        search = (_q1(qs, "search") or "").lower()
        author = _q1(qs, "author")
        filters = qs.get("filter", [])
        sort = _q1(qs, "sort")
        direction = _q1(qs, "direction", "-1")
        expand = qs.get("expand", []) + qs.get("expand[]", [])
        if sort is not None and sort not in self.SEARCH_SORTS:
            return h._send(self._error(400, "Invalid sort parameter: %s" % sort, "BadRequest"))
        if direction not in ("-1", "1"):
            return h._send(self._error(400, "Invalid direction: must be 1 or -1", "BadRequest"))
        bad = [e for e in expand if e not in self.SEARCH_FIELDS[rtype]]
        if bad:
            return h._send(self._error(400, '"expand" must be one of %s' % ", ".join(self.SEARCH_FIELDS[rtype]),
                                       "BadRequest"))
        try:
            limit = int(_q1(qs, "limit", "1000"))
            if limit < 1:
                raise ValueError
        except ValueError:
            return h._send(self._error(400, "Invalid limit", "BadRequest"))
        hits = []
        for (t, rid), repo in sorted(self.store.repos.items()):
            if t != rtype or repo.renamed_to or repo.disabled:
                continue
            if repo.private and user not in repo.readers:
                continue
            if search and search not in rid.lower():
                continue
            if author is not None and (rid.split("/")[0] if "/" in rid else rid) != author:
                continue
            repo.build()
            info = self._search_fields(repo)
            labels = set(info.get("tags", [])) | {info.get("pipeline_tag"), info.get("library_name")}
            if any(x not in labels for x in filters):
                continue
            hits.append(info)
        if sort is not None:
            # stable: ties keep the id order; descending for direction -1
            hits.sort(key=lambda i: (i.get(sort) is None, i.get(sort) or 0), reverse=(direction == "-1"))
            if direction == "-1":
                none = [i for i in hits if i.get(sort) is None]
                hits = [i for i in hits if i.get(sort) is not None] + none
        size = min(limit, 1000, self.page_size)
        cursor = _q1(qs, "cursor")
        offset = 0
        if cursor is not None:
            try:
                d = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
                offset = int(d["o"])
                if offset < 0:
                    raise ValueError
            except (ValueError, KeyError, TypeError, binascii.Error):
                return h._send(self._error(400, "Invalid cursor", "BadRequest"))
        if self._take_faults(route, ("endless_cursor",)):
            offset = 0
        page = hits[offset:offset + size]
        if expand:
            page = [dict({"_id": i["_id"], "id": i["id"]}, **{k: i[k] for k in expand if k in i}) for i in page]
        else:
            base = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag",
                    "library_name", "createdAt", "modelId")
            page = [{k: i[k] for k in base if k in i} for i in page]
        headers = []
        if offset + size < len(hits):
            q = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k != "cursor"]
            q.append(("cursor", self._cursor(offset + size, 0)))
            url = "%s/api/%ss?%s" % (self.endpoint, rtype, urllib.parse.urlencode(q))
            headers.append(("Link", '<%s>; rel="next"' % url))
        return self._send_api_json(h, route, page, headers)

    @staticmethod
    def _cursor(offset, nonce):
        d = {"o": offset}
        if nonce:
            d["n"] = nonce
        return base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).decode().rstrip("=")

    def _api_paths_info(self, h, repo, rev, route):
        c = repo.resolve(rev)
        if c is None:
            return h._send(self._rev_error(rev))
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                d = json.loads(h.body or b"{}")
                paths = d.get("paths", [])
                if isinstance(paths, str):
                    paths = [paths]
                expand = bool(d.get("expand", False))
            elif ctype == "application/x-www-form-urlencoded":
                d = urllib.parse.parse_qs(h.body.decode("utf-8"), keep_blank_values=True)
                paths = d.get("paths", [])
                expand = _truthy(d.get("expand", ["false"])[-1])
            else:
                return h._send(self._error(400, "Unsupported Content-Type: expected JSON or form data"))
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise ValueError
        except (ValueError, UnicodeDecodeError, AttributeError):
            return h._send(self._error(400, "Invalid request body"))
        out, seen = [], set()
        for p in paths:
            p = p.strip("/")
            if p in seen or not p:
                continue
            seen.add(p)
            if repo.lookup(c, p) is not None:
                out.append(repo.entry(c, p, expand))
        return self._send_api_json(h, route, out)

    def _api_refs(self, h, repo, qs, route):
        out = {"branches": [{"name": k, "ref": "refs/heads/" + k, "targetCommit": v.sha}
                            for k, v in sorted(repo.branches.items())],
               "converts": [],
               "tags": [{"name": k, "ref": "refs/tags/" + k, "targetCommit": v.sha}
                        for k, v in sorted(repo.tags.items())]}
        if _truthy(_q1(qs, "include_prs", "0")):
            out["pullRequests"] = [{"name": k, "ref": k, "targetCommit": v.sha}
                                   for k, v in sorted(repo.pulls.items())]
        return self._send_api_json(h, route, out)

    # -- files -------------------------------------------------------------------
    def _find_file(self, repo, c, path):
        f = c.files.get(path)
        if f is None and path in self._unsafe_paths(repo.id):
            data = b"unsafe path fixture\n"
            f = FileRef(_blob_for(("data", data), lambda: Blob(len(data), data=data)), False)
        return f

    def _handle_file(self, h, rtype, segs, query, user):
        repo_id, n = self._split_repo(segs, FILE_VERBS)
        rest = segs[n:]
        if len(rest) < 2 or rest[0] not in ("resolve", "raw") or h.command not in ("GET", "HEAD"):
            return h._send(self._error(404, "Sorry, we can't find the page you are looking for."))
        verb = rest[0]
        s = urllib.parse.unquote("/".join(rest[1:]), errors="surrogateescape")
        repo = self.store.get(rtype, repo_id)
        if repo is not None and not repo.renamed_to:
            rev, path = repo.build().split_rev_path(s)
        else:
            rev, _, path = s.partition("/")
        route = Route("resolve", [repo_id], [path])
        gated = path not in UNGATED_FILES
        repo = self._access(h, rtype, repo_id, user, route, query, n, gated_check=gated)
        if repo is None:
            return
        c = repo.resolve(rev)
        if c is None:
            return h._send(self._rev_error(rev))
        f = self._find_file(repo, c, path) if path else None
        if f is None:
            return h._send(self._entry_error(c))
        if verb == "raw":
            if f.lfs:
                blob = Blob(len(f.pointer), data=f.pointer)
                return self._send_bytes(h, route, blob, git_blob_sha1(f.pointer), c, path, allow_gzip=True,
                                        ctype="text/plain; charset=utf-8")
            return self._send_bytes(h, route, f.blob, f.oid, c, path, allow_gzip=True)
        if repo.direct_resolve:
            return self._send_bytes(h, route, f.blob, f.etag, c, path, allow_gzip=not f.lfs)
        if f.lfs:
            loc = self.cdn_url(f.blob.sha256, path.rsplit("/", 1)[-1], route=Route("cdn", [repo_id], [path]))
            body = ("Found. Redirecting to %s" % loc).encode()
            return h._send(Resp(302, [
                ("Location", loc), ("Content-Type", "text/plain; charset=utf-8"),
                ("X-Repo-Commit", c.sha), ("X-Linked-Etag", '"%s"' % f.blob.sha256),
                ("X-Linked-Size", str(f.size)),
                ("ETag", 'W/"%x-%s"' % (len(body), hashlib.sha1(body).hexdigest()[:27])),
                ("Vary", "Origin, Accept")], body))
        loc = "/api/resolve-cache/%ss/%s/%s/%s?%s=&etag=%s" % (
            rtype, repo.id, c.sha, _quote_path(path),
            urllib.parse.quote(h.path.partition("?")[0], safe=""), urllib.parse.quote('"%s"' % f.oid, safe=""))
        body = ("Temporary Redirect. Redirecting to %s" % loc).encode()
        return h._send(Resp(307, [
            ("Location", loc), ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Repo-Commit", c.sha), ("ETag", '"%s"' % f.oid), ("Vary", "Origin, Accept")], body))

    def _handle_resolve_cache(self, h, rtype, segs, query, user):
        if h.command not in ("GET", "HEAD"):
            return h._send(self._error(405, "Method not allowed"))
        if len(segs) >= 3 and HEX40.match(segs[1]) and not HEX40.match(segs[2]):
            n = 1
        else:
            n = 2
        repo_id = "/".join(urllib.parse.unquote(s) for s in segs[:n])
        if len(segs) < n + 2:
            return h._send(self._error(404, "Sorry, we can't find the page you are looking for."))
        sha = segs[n]
        path = urllib.parse.unquote("/".join(segs[n + 1:]), errors="surrogateescape")
        route = Route("resolve", [repo_id], [path])
        repo = self._access(h, rtype, repo_id, user, route, query, n, gated_check=path not in UNGATED_FILES)
        if repo is None:
            return
        c = repo.by_sha.get(sha)
        if c is None:
            return h._send(self._rev_error(sha))
        f = self._find_file(repo, c, path)
        if f is None:
            return h._send(self._entry_error(c))
        return self._send_bytes(h, route, f.blob, f.etag, c, path, allow_gzip=not f.lfs)

    def _send_bytes(self, h, route, blob, etag, commit, path, allow_gzip, ctype=None):
        if ctype is None:
            ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype == "application/json":
                ctype += "; charset=utf-8"
        base = [("Content-Type", ctype), ("ETag", '"%s"' % etag), ("Accept-Ranges", "bytes")]
        if commit is not None:
            base.append(("X-Repo-Commit", commit.sha))
        base.append(("Content-Disposition", "inline; filename*=UTF-8''%s; filename=\"%s\";" % (
            urllib.parse.quote(path.rsplit("/", 1)[-1], safe=""),
            path.rsplit("/", 1)[-1].encode("ascii", "replace").decode().replace('"', "_"))))
        return self._send_content(h, route, blob, etag, base, allow_gzip)

    def _send_content(self, h, route, blob, etag, base, allow_gzip):
        size = blob.size
        rng = h.headers.get("Range")
        ifr = h.headers.get("If-Range")
        if rng is not None and ifr is not None and ifr.strip() not in ('"%s"' % etag, etag):
            rng = None
        r = _parse_range(rng, size) if rng is not None else None
        if r == "unsat":
            return h._send(Resp(416, [("Content-Range", "bytes */%d" % size), ("Content-Type", "text/plain")] +
                                [x for x in base if x[0] in ("ETag", "X-Repo-Commit")],
                                b"Requested Range Not Satisfiable"))
        if r is not None:
            start, end = r
            if self._take_faults(route, ("empty_range",)):
                # headers of a partial answer, and no body at all
                return h._send(Resp(206, base + [("Content-Range", "bytes %d-%d/%d" % (start, end, size)),
                                                 ("Content-Length", "0")], b""))
            body = memoryview(blob.data())[start:end + 1]
            return h._send(Resp(206, base + [("Content-Range", "bytes %d-%d/%d" % (start, end, size))],
                                body, content=start), route)
        if allow_gzip and size and _accepts_gzip(h.headers.get("Accept-Encoding")):
            return h._send(Resp(200, base + [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                                blob.gzipped(), content="encoded"), route)
        if h.command == "HEAD":
            return h._send(Resp(200, base + [("Content-Length", str(size))], b""), route)
        return h._send(Resp(200, base, blob.data(), content=0), route)

    # -- CDN ---------------------------------------------------------------------
    def _cdn_error(self, status, code, message):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                '<RequestId>%s</RequestId></Error>' % (code, message, os.urandom(8).hex().upper())).encode()
        return Resp(status, [("Content-Type", "application/xml")], body)

    def _handle_cdn(self, h):
        raw, _, query = h.path.partition("?")
        if raw.startswith("/upload/"):
            return self._storage_put(h, raw, query)
        m = re.fullmatch(r"/lfs/([0-9a-f]{64})", raw)
        if h.command not in ("GET", "HEAD"):
            return h._send(self._cdn_error(405, "MethodNotAllowed", "The specified method is not allowed."))
        if not m:
            return h._send(self._cdn_error(404, "NoSuchKey", "The specified key does not exist."))
        sha = m.group(1)
        qs = _qs(query)
        date, expires, sig = (_q1(qs, k, "") for k in ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature"))
        blob, pairs = self.store.lfs_lookup(sha)
        route = Route("cdn", pairs=pairs)
        f = self._take_faults(route, ("status",))
        if f:
            return h._send(self._status_fault(f[0]), drip=[f[0]] if f[0].get("drip") else ())
        if self._redirect_fault(h, route):
            return
        if not sig or not hmac.compare_digest(sig, self._sign(sha, date, expires)):
            return h._send(self._cdn_error(403, "AccessDenied", "Request has invalid signature"))
        try:
            t0 = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
            if t0.timestamp() + int(expires) <= time.time():
                return h._send(self._cdn_error(403, "AccessDenied", "Request has expired"))
            with self._faults_lock:
                serial = _q1(qs, "x-fixture-url")
                left = self._url_uses.get(serial) if serial else None
                if left is not None:
                    self._url_uses[serial] = left - 1
            if left is not None and left <= 0:
                return h._send(self._cdn_error(403, "AccessDenied", "Request has expired"))
        except ValueError:
            return h._send(self._cdn_error(403, "AccessDenied", "Request has invalid date"))
        if blob is None:
            return h._send(self._cdn_error(404, "NoSuchKey", "The specified key does not exist."))
        base = [("Content-Type", "binary/octet-stream"),
                ("ETag", '"%s"' % hashlib.md5(bytes.fromhex(sha)).hexdigest()),
                ("Accept-Ranges", "bytes"),
                ("Last-Modified", email.utils.formatdate(1704067200, usegmt=True)),
                ("x-amz-request-id", os.urandom(8).hex().upper()),
                ("Via", "1.1 fixture.cloudfront.invalid (CloudFront)"), ("X-Cache", "Miss from cloudfront")]
        disp = _q1(qs, "response-content-disposition")
        if disp:
            base.append(("Content-Disposition", disp.encode("utf-8").decode("latin-1")))
        etag = dict(base)["ETag"].strip('"')
        return self._send_content(h, route, blob, etag, base, allow_gzip=False)


# --------------------------------------------------------------------------
# Command line


def describe(store, names=()):
    """JSON-able description of repositories: refs, commits and files (no content)."""
    out = []
    for (rtype, rid), r in sorted(store.repos.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if names and rid not in names and "%s/%s" % (rtype, rid) not in names:
            continue
        d = {"id": rid, "type": rtype, "private": r.private, "gated": r.gated, "gate_api": r.gate_api,
             "disabled": r.disabled, "direct_resolve": r.direct_resolve, "renamed_to": r.renamed_to}
        if not r.renamed_to:
            r.build()
            d["refs"] = store.refs_of(rid, rtype)
            d["commits"] = [{"label": c.label, "sha": c.sha, "parent": None if c.parent is None
                             else r.commits[c.parent].sha, "date": c.date, "title": c.title}
                            for c in r.commits]
            d["files"] = {}
            for c in r.commits:
                d["files"][c.sha] = {p: {"size": f.size, "lfs": f.lfs, "git_oid": f.oid, "sha256": f.blob.sha256}
                                     for p, f in sorted(c.files.items())}
        out.append(d)
    return out


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="Fixture Hugging Face Hub (loopback only).")
    ap.add_argument("--data", default=None, help="repository descriptions (default: test-data/hub)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--tls", default=None, metavar="DIR", help="serve HTTPS; CA and cert in DIR")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--log", default=None, metavar="FILE", help="append requests as JSON lines")
    ap.add_argument("--describe", nargs="*", metavar="[TYPE/]REPO",
                    help="print refs, commits and files of the repositories (derived shas) as JSON and exit")
    a = ap.parse_args(argv)
    if a.describe is not None:
        json.dump(describe(Store(a.data), a.describe), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    hub = FixtureHub(data_dir=a.data, tls_dir=a.tls, page_size=a.page_size, port=a.port,
                     cdn_port=a.cdn_port, log_file=a.log)
    hub.start()
    done = threading.Event()

    def stop(*_):
        done.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("HF_ENDPOINT=%s\nHF_CDN=%s\n" % (hub.endpoint, hub.cdn))
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
