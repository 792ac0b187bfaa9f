#!/usr/bin/env python3
"""The fixture Hub for `make bench`: tests/hub/hub.py, unchanged, plus two things.

* A FILE spec may be {"file": PATH, "size": N, "sha256": HEX, "lfs": true}: content taken
  from a file on disk (the 1 GiB benchmark blob) instead of being generated in memory.
  The hub only needs its sha256 and size (tree, paths-info, the 302); the bytes are
  served by nginx. If the hub is ever asked for the bytes themselves, it mmaps the file.
* --cdn-base URL: the LFS 302 points at URL/lfs/<sha256>?<signed query> (nginx serves
  the blob directory there and ignores the query) instead of the hub's own CDN listener.

Run:  python3 tests/bench/benchhub.py --data DIR --cdn-base http://localhost:PORT
The first line on stdout is HF_ENDPOINT=...; SIGTERM stops it.
"""
import argparse
import mmap
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "hub"))
import hub  # noqa: E402


class FileBlob(hub.Blob):
    """A blob whose bytes live in a file; sha256 and size are given, not computed."""

    def __init__(self, path, size, sha256):
        super().__init__(size)
        self.path = path
        self._sha256 = sha256

    def data(self):
        if self._data is None:
            with self._lock:
                if self._data is None:
                    with open(self.path, "rb") as f:
                        self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self._data


_orig_file_from_spec = hub._file_from_spec


def _file_from_spec(spec, where):
    if "file" not in spec:
        return _orig_file_from_spec(spec, where)
    path, size, sha = spec["file"], int(spec["size"]), spec["sha256"]
    if os.path.getsize(path) != size:
        raise ValueError("%s: %s is not %d bytes" % (where, path, size))
    blob = hub._blob_for(("file", path, sha), lambda: FileBlob(path, size, sha))
    return hub.FileRef(blob, bool(spec.get("lfs", False)))


hub._file_from_spec = _file_from_spec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--cdn-base", default=None, help="where LFS 302s point (nginx)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None, metavar="FILE", help="append requests as JSON lines")
    a = ap.parse_args()
    fx = hub.FixtureHub(data_dir=a.data, port=a.port, log_file=a.log)
    for r in fx.store.repos.values():    # build now: no first-request cost inside a measurement
        r.build()
    fx.start()
    if a.cdn_base:
        fx.cdn = a.cdn_base.rstrip("/")   # FixtureHub.cdn_url() builds the 302 from this
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    sys.stdout.write("HF_ENDPOINT=%s\nHF_CDN=%s\n" % (fx.endpoint, fx.cdn))
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    fx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
