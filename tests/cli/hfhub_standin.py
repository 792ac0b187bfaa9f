#!/usr/bin/env python3
"""A stand-in for huggingface_hub 0.36's hf_hub_download (requests-based, no Xet), for the tests
of one cache (or one local folder) shared by hf-fetch and the Python tools.

It follows huggingface_hub's file_download.py and _local_folder.py step by step, with its
names, its locks and its files (the real package is not installable here):

* locks: filelock's UnixFileLock, as WeakFileLock takes it: open(O_RDWR | O_TRUNC [| O_CREAT],
  0o644), flock(LOCK_EX | LOCK_NB) polled every 0.05 s, released with LOCK_UN and close; the
  lock file is never removed. Cache: .locks/<repo folder>/<etag>.lock; local folder:
  .cache/huggingface/download/<path>.lock.
* metadata: HEAD on the resolve URL (relative redirects followed), X-Repo-Commit,
  X-Linked-Etag or ETag, X-Linked-Size or Content-Length, Location.
* cache: refs/<revision> written first; a pointer (snapshot entry) or blob that exists is
  trusted; else, under the lock, blobs/<etag>.incomplete opened "ab" (resuming with Range),
  moved into place, then the snapshot symlink (relative) made.
* local folder: .metadata "<commit>\\n<etag>\\n<time.time()>\\n", stale when
  mtime - 1 > timestamp; a file is reused when its metadata is fresh and names the commit
  asked for, or when the etag matches; the download goes to
  .cache/huggingface/download/<short_hash(metadata name)>.<etag>.incomplete.

Run:  hfhub_standin.py ENDPOINT REPO_ID FILENAME [--revision R] [--cache-dir D | --local-dir D]
                       [--token T] [--chunk-delay S]
Prints the path of the file; one line "standin: ..." per event on stderr (requests, waits).
"""
import argparse
import base64
import errno
import fcntl
import hashlib
import http.client
import os
import re
import shutil
import sys
import time
import urllib.parse

REGEX_COMMIT_HASH = re.compile(r"^[0-9a-f]{40}$")
REGEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 10 * 1024 * 1024


def say(msg):
    sys.stderr.write("standin: %s\n" % msg)
    sys.stderr.flush()


# -- filelock.UnixFileLock, as huggingface_hub.utils._fixes.WeakFileLock uses it ---------------

class WeakFileLock:
    def __init__(self, path):
        self.path, self.fd = str(path), None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        told = False
        while True:
            flags = os.O_RDWR | os.O_TRUNC
            if not os.path.exists(self.path):
                flags |= os.O_CREAT
            fd = os.open(self.path, flags, 0o644)
            try:
                os.fchmod(fd, 0o644)
            except PermissionError:
                pass
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno == errno.ENOSYS:
                    raise NotImplementedError("use SoftFileLock instead")
                if not told:
                    say("waiting for lock %s" % self.path)
                    told = True
                time.sleep(0.05)
                continue
            self.fd = fd
            return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


# -- HTTP ---------------------------------------------------------------------------------------

def request(method, url, headers):
    u = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, u.port, timeout=30)
    path = u.path + ("?" + u.query if u.query else "")
    conn.request(method, path, headers=headers)
    say("%s %s" % (method, u.path))
    return conn, conn.getresponse()


def get_hf_file_metadata(url, token):
    """HEAD, following relative redirects only (as _request_wrapper(follow_relative_redirects))."""
    headers = {"Accept-Encoding": "identity", "user-agent": "huggingface_hub/0.36.0"}
    if token:
        headers["authorization"] = "Bearer %s" % token
    while True:
        conn, r = request("HEAD", url, headers)
        r.read()
        conn.close()
        if 300 <= r.status < 400 and r.getheader("Location"):
            loc = r.getheader("Location")
            if not urllib.parse.urlsplit(loc).netloc:  # relative: followed
                url = urllib.parse.urljoin(url, loc)
                continue
        break
    if r.status >= 400:
        raise OSError("HEAD %s: %d" % (url, r.status))
    etag = r.getheader("X-Linked-Etag") or r.getheader("ETag")
    etag = re.sub(r'^W/', "", etag).strip('"') if etag else None
    size = r.getheader("X-Linked-Size") or r.getheader("Content-Length")
    return {"commit_hash": r.getheader("X-Repo-Commit"), "etag": etag,
            "size": int(size) if size is not None else None,
            "location": urllib.parse.urljoin(url, r.getheader("Location") or url)}


def http_get(url, f, resume_size, expected_size, token, endpoint, chunk_delay):
    headers = {"user-agent": "huggingface_hub/0.36.0"}
    if resume_size > 0:
        headers["Range"] = "bytes=%d-" % resume_size
    for _ in range(10):
        h = dict(headers)
        if token and url.startswith(endpoint):
            h["authorization"] = "Bearer %s" % token
        conn, r = request("GET", url, h)
        if 300 <= r.status < 400:
            url = urllib.parse.urljoin(url, r.getheader("Location"))
            r.read()
            conn.close()
            continue
        break
    if r.status >= 400:
        raise OSError("GET %s: %d" % (url, r.status))
    while True:
        chunk = r.read(64 * 1024)
        if not chunk:
            break
        f.write(chunk)
        f.flush()
        if chunk_delay:
            time.sleep(chunk_delay)
    conn.close()
    if expected_size is not None and expected_size != f.tell():
        raise OSError("Consistency check failed: file should be of size %d but has size %d"
                      % (expected_size, f.tell()))


def download_to_tmp_and_move(incomplete_path, destination_path, url, expected_size, token,
                             endpoint, chunk_delay):
    if os.path.exists(destination_path):
        return  # do nothing if it already exists
    with open(incomplete_path, "ab") as f:
        resume_size = f.tell()
        say("Downloading to %s (resume from %d)" % (incomplete_path, resume_size))
        http_get(url, f, resume_size, expected_size, token, endpoint, chunk_delay)
    os.chmod(incomplete_path, 0o644)
    shutil.move(str(incomplete_path), str(destination_path))


# -- the cache ------------------------------------------------------------------------------------

def repo_folder_name(repo_id, repo_type):
    return "--".join([repo_type + "s"] + repo_id.split("/"))


def create_symlink(src, dst):
    try:
        os.remove(dst)
    except OSError:
        pass
    rel = os.path.relpath(os.path.abspath(src), os.path.dirname(os.path.abspath(dst)))
    os.symlink(rel, dst)


def to_cache(a, meta, url):
    storage = os.path.join(a.cache_dir, repo_folder_name(a.repo_id, a.repo_type))
    if REGEX_COMMIT_HASH.match(a.revision):
        pointer = os.path.join(storage, "snapshots", a.revision, a.filename)
        if os.path.exists(pointer):
            return pointer
    if meta is None:
        meta = get_hf_file_metadata(url, a.token)
    etag, commit = meta["etag"], meta["commit_hash"]
    blob = os.path.join(storage, "blobs", etag)
    pointer = os.path.join(storage, "snapshots", commit, a.filename)
    os.makedirs(os.path.dirname(blob), exist_ok=True)
    os.makedirs(os.path.dirname(pointer), exist_ok=True)
    if a.revision != commit:  # _cache_commit_hash_for_specific_revision
        ref = os.path.join(storage, "refs", a.revision)
        if not os.path.exists(ref) or open(ref).read() != commit:
            os.makedirs(os.path.dirname(ref), exist_ok=True)
            with open(ref, "w") as f:
                f.write(commit)
    if os.path.exists(pointer):
        return pointer
    if os.path.exists(blob):
        create_symlink(blob, pointer)
        return pointer
    lock = os.path.join(a.cache_dir, ".locks", repo_folder_name(a.repo_id, a.repo_type),
                        etag + ".lock")
    with WeakFileLock(lock):
        download_to_tmp_and_move(blob + ".incomplete", blob, meta["location"], meta["size"],
                                 a.token, a.endpoint, a.chunk_delay)
        if not os.path.exists(pointer):
            create_symlink(blob, pointer)
    return pointer


# -- a local folder (_local_folder.py) ------------------------------------------------------------

def short_hash(filename):
    return base64.urlsafe_b64encode(hashlib.sha1(filename.encode()).digest()).decode()


def local_paths(local_dir, filename):
    sanitized = os.path.join(*filename.split("/"))
    file_path = os.path.join(local_dir, sanitized)
    metadata_path = os.path.join(local_dir, ".cache", "huggingface", "download",
                                 sanitized + ".metadata")
    lock_path = metadata_path[:-len(".metadata")] + ".lock"
    os.makedirs(os.path.dirname(file_path), exist_ok=True)
    os.makedirs(os.path.dirname(metadata_path), exist_ok=True)
    return file_path, metadata_path, lock_path


def incomplete_path(metadata_path, etag):
    return os.path.join(os.path.dirname(metadata_path),
                        "%s.%s.incomplete" % (short_hash(os.path.basename(metadata_path)), etag))


def read_download_metadata(local_dir, filename):
    file_path, metadata_path, lock_path = local_paths(local_dir, filename)
    with WeakFileLock(lock_path):
        if os.path.exists(metadata_path):
            try:
                with open(metadata_path) as f:
                    commit_hash = f.readline().strip()
                    etag = f.readline().strip()
                    timestamp = float(f.readline().strip())
            except Exception:
                try:
                    os.unlink(metadata_path)
                except OSError:
                    pass
                return None
            try:
                st = os.stat(file_path)
                if st.st_mtime - 1 <= timestamp:
                    return {"commit_hash": commit_hash, "etag": etag, "timestamp": timestamp}
                say("Ignored metadata for '%s' (outdated). Will re-compute hash." % filename)
            except FileNotFoundError:
                return None
    return None


def write_download_metadata(local_dir, filename, commit_hash, etag):
    file_path, metadata_path, lock_path = local_paths(local_dir, filename)
    with WeakFileLock(lock_path):
        with open(metadata_path, "w") as f:
            f.write(f"{commit_hash}\n{etag}\n{time.time()}\n")


def to_local_dir(a, url):
    file_path, metadata_path, lock_path = local_paths(a.local_dir, a.filename)
    local = read_download_metadata(a.local_dir, a.filename)
    if REGEX_COMMIT_HASH.match(a.revision) and os.path.isfile(file_path) and local is not None \
            and local["commit_hash"] == a.revision:
        say("reused %s (fresh metadata)" % a.filename)
        return file_path
    meta = get_hf_file_metadata(url, a.token)
    etag, commit = meta["etag"], meta["commit_hash"]
    if os.path.isfile(file_path):
        if local is not None and local["etag"] == etag:
            write_download_metadata(a.local_dir, a.filename, commit, etag)
            say("reused %s (etag)" % a.filename)
            return file_path
        if local is None and REGEX_SHA256.match(etag):
            with open(file_path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() == etag:
                    write_download_metadata(a.local_dir, a.filename, commit, etag)
                    say("reused %s (sha256)" % a.filename)
                    return file_path
    with WeakFileLock(lock_path):
        try:
            os.unlink(file_path)
        except FileNotFoundError:
            pass
        download_to_tmp_and_move(incomplete_path(metadata_path, etag), file_path,
                                 meta["location"], meta["size"], a.token, a.endpoint,
                                 a.chunk_delay)
    write_download_metadata(a.local_dir, a.filename, commit, etag)
    return file_path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("endpoint")
    p.add_argument("repo_id")
    p.add_argument("filename")
    p.add_argument("--revision", default="main")
    p.add_argument("--repo-type", default="model")
    p.add_argument("--cache-dir")
    p.add_argument("--local-dir")
    p.add_argument("--token")
    p.add_argument("--chunk-delay", type=float, default=0.0)
    a = p.parse_args()
    a.endpoint = a.endpoint.rstrip("/")
    prefix = "" if a.repo_type == "model" else a.repo_type + "s/"
    url = "%s/%s%s/resolve/%s/%s" % (a.endpoint, prefix, a.repo_id,
                                     urllib.parse.quote(a.revision, safe=""),
                                     urllib.parse.quote(a.filename))
    path = to_local_dir(a, url) if a.local_dir else to_cache(a, None, url)
    print(path)


if __name__ == "__main__":
    main()
