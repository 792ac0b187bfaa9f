"""Archives made for the tests and the benchmark without hf-bundle: a bundle of many folders
(one small file in each), and its hostile twin whose manifest lists every file but which holds
only the folders (tiny when compressed, once quadratic to verify: issue 11)."""
import hashlib
import io
import json
import tarfile


def _manifest(n):
    files = []
    for i in range(n):
        data = b"%d\n" % i
        files.append({"path": "d%06d/f" % i, "size": len(data), "lfs": False,
                      "sha256": hashlib.sha256(data).hexdigest(),
                      "git_oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()})
    files.sort(key=lambda f: f["path"].encode())
    return json.dumps({"repo_id": "acme/many-folders", "repo_type": "model", "revision": "main",
                       "commit": "0123456789abcdef0123456789abcdef01234567",
                       "endpoint": "https://huggingface.co", "files": files,
                       "tool": {"name": "hf-fetch", "version": "0.1.0"},
                       "fetched_at": "2026-01-02T03:04:05Z"}, indent=2).encode() + b"\n"


def many_folders(path, n, hostile=False, prefix="many-folders"):
    """Writes a .tar.gz bundle of n folders d000000/ .. each holding a file f, with the
    manifest first, as hf-bundle orders them. hostile: the files are left out (only the
    folders are there), so the archive differs from its manifest in n places."""
    def add(t, name, data=None):
        info = tarfile.TarInfo(prefix + "/" + name)
        info.mtime = 1700000000
        if data is None:
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            t.addfile(info)
        else:
            info.size, info.mode = len(data), 0o644
            t.addfile(info, io.BytesIO(data))
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=6) as t:
        info = tarfile.TarInfo(prefix + "/")
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        t.addfile(info)
        add(t, "hf-manifest.json", _manifest(n))
        for i in range(n):
            add(t, "d%06d/" % i)
            if not hostile:
                add(t, "d%06d/f" % i, b"%d\n" % i)
