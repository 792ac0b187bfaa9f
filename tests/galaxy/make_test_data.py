#!/usr/bin/python3
"""Writes the expected files of the Galaxy tool tests from the fixture Hub's own description.

The files come from tests/hub/hub.py (files_at, commit_of), not from the
binaries, so the tool tests compare the binaries with an independent record.
Run it again when the fixture repositories change:

    /usr/bin/python3 tests/galaxy/make_test_data.py [--check]

--check only reports the files that differ (exit 1 if any).
The lock manifest (test-data/hf_fetch/tiny-model.manifest.json) is written by
hf-fetch itself: see --manifest.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "hub"))
import hub  # noqa: E402

TEST_DATA = os.path.join(REPO, "test-data")


def listing(repo_id, rev, repo_type="model"):
    """The TSV hf-list prints: a header naming the commit, then one line per file by path."""
    commit = hub.commit_of(repo_id, rev, repo_type=repo_type)
    files = hub.files_at(repo_id, rev, repo_type=repo_type)
    lines = [f"# repo_id={repo_id}\trepo_type={repo_type}\trevision={rev}\tcommit={commit}",
             "#path\tsize\tlfs\tsha256\tgit_oid"]
    for path in sorted(files, key=lambda p: p.encode("utf-8")):
        f = files[path]
        lines.append("\t".join([path, str(f["size"]), "true" if f["lfs"] else "false",
                                f["sha256"] if f["lfs"] else "", f["git_oid"]]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def content(repo_id, path, rev="main", repo_type="model"):
    return hub.files_at(repo_id, rev, repo_type=repo_type)[path]["content"]()


EXPECTED = {
    "hf_list/tiny-model.main.tabular": lambda: listing("acme/tiny-model", "main"),
    "hf_list/tiny-dataset.main.tabular": lambda: listing("acme/tiny-dataset", "main", "dataset"),
    "hf_fetch/tiny-model/README.md": lambda: content("acme/tiny-model", "README.md"),
    "hf_fetch/tiny-model/config.json": lambda: content("acme/tiny-model", "config.json"),
    "hf_fetch/tiny-model/tokenizer.json": lambda: content("acme/tiny-model", "tokenizer/tokenizer.json"),
    "hf_fetch/tiny-model/special_tokens_map.json":
        lambda: content("acme/tiny-model", "tokenizer/special_tokens_map.json"),
    "hf_fetch/tiny-model/donnees_e.txt": lambda: content("acme/tiny-model", "données/é.txt"),
    "hf_fetch/tiny-model/sub_dir_file_with_spaces.txt":
        lambda: content("acme/tiny-model", "sub dir/file with spaces.txt"),
    "hf_fetch/tiny-model/odd_hash_name.txt": lambda: content("acme/tiny-model", "odd/hash#name.txt"),
    "hf_fetch/tiny-model/odd_percent.txt": lambda: content("acme/tiny-model", "odd/100%.txt"),
    "hf_fetch/tiny-dataset/train.csv": lambda: content("acme/tiny-dataset", "data/train.csv", "main", "dataset"),
    "hf_fetch/tiny-dataset/test.csv": lambda: content("acme/tiny-dataset", "data/test.csv", "main", "dataset"),
}


def write_manifest(bin_dir):
    """The lock manifest of the hf_fetch and hf_bundle tests: what test 1 of hf_fetch fetches."""
    out = os.path.join(TEST_DATA, "hf_fetch", "tiny-model.manifest.json")
    try:  # the address of `make hub`, so that the manifest's endpoint is the documented one
        server = hub.FixtureHub(port=8765)
        server.start()
    except OSError:
        server = hub.FixtureHub()
        server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "HF_ENDPOINT": server.endpoint}
            cmd = [os.path.join(bin_dir, "hf-fetch"), "--revision", "main",
                   "--include", "*.json", "--include", "README.md", "--local-dir", os.path.join(tmp, "d"),
                   "--manifest", out, "acme/tiny-model"]
            subprocess.run(cmd, env=env, check=True)
    finally:
        server.stop()
    print(f"wrote {os.path.relpath(out, REPO)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--manifest", metavar="BIN_DIR", help="also write the lock manifest with BIN_DIR/hf-fetch")
    args = ap.parse_args()
    differ = 0
    for rel, make in EXPECTED.items():
        data = make()
        path = os.path.join(TEST_DATA, rel)
        old = open(path, "rb").read() if os.path.exists(path) else None
        if old == data:
            continue
        differ += 1
        if args.check:
            print(f"differs: {rel}")
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        print(f"wrote {rel}")
    if args.manifest and not args.check:
        write_manifest(args.manifest)
    return 1 if (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
