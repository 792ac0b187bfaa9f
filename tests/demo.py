#!/usr/bin/env python3
"""`make demo`: the main job, offline, against the bundled fixture Hub.

Starts the fixture Hub on 127.0.0.1, lists a repository at a pinned revision,
fetches it verified into a folder with a manifest, refetches it from that
manifest, (when hf-bundle is built) packs it into a deterministic archive, and
(when hf-upload is built) pushes a derived model with a card naming its source,
then fetches that commit back from the upload's manifest.
"""
import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "hub"))
from hub import FixtureHub  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "bin"))
    args = ap.parse_args()
    hub = FixtureHub()
    hub.start()
    work = tempfile.mkdtemp(prefix="hf-demo-")
    env = dict(os.environ, HF_ENDPOINT=hub.endpoint, HF_HOME=os.path.join(work, "hf-home"))
    for k in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        env.pop(k, None)

    def run(*argv):
        print("$ " + " ".join(a if " " not in a else repr(a) for a in argv), flush=True)
        p = subprocess.run([os.path.join(args.bin, argv[0]), *argv[1:]], env=env, cwd=work)
        if p.returncode != 0:
            sys.exit(f"demo: {argv[0]} failed with exit code {p.returncode}")
        print(flush=True)

    try:
        print(f"Fixture Hub at {hub.endpoint} (HF_ENDPOINT), working in {work}\n")
        run("hf-list", "-r", "v1.0", "acme/tiny-model")
        run("hf-fetch", "-r", "v1.0", "-o", "tiny-model", "-m", "tiny-model.json",
            "--progress", "log", "acme/tiny-model")
        run("hf-fetch", "--lock", "tiny-model.json", "-o", "again", "--progress", "none")
        if os.path.exists(os.path.join(args.bin, "hf-bundle")):
            run("hf-bundle", "-o", "tiny-model.tar.gz", "tiny-model")
            run("hf-bundle", "--verify", "tiny-model.tar.gz")
        if os.path.exists(os.path.join(args.bin, "hf-upload")):
            os.makedirs(os.path.join(work, "derived"))
            with open(os.path.join(work, "derived", "adapter.safetensors"), "wb") as f:
                f.write(os.urandom(1 << 20))
            with open(os.path.join(work, "card.yml"), "w") as f:
                f.write("license: apache-2.0\ntags: [fine-tuned]\n")
            env["HF_TOKEN"] = "fixture-token-alice-write"     # a made-up write token of the fixture
            run("hf-upload", "--create", "--card", "card.yml", "--card-source", "tiny-model.json",
                "-o", "pushed.json", "--progress", "log", "alice/tiny-derived", "derived",
                "tiny-model/config.json=config.json")
            run("hf-fetch", "--lock", "pushed.json", "-o", "pulled", "--progress", "none")
            with open(os.path.join(work, "pulled", "README.md")) as f:
                print("The card of the pushed commit (first lines):")
                for line in f.read().splitlines()[:14]:
                    print("  " + line)
            print()
        print("Manifest (first lines):")
        with open(os.path.join(work, "tiny-model.json")) as f:
            for line in f.read().splitlines()[:16]:
                print("  " + line)
        print(verdict(work), flush=True)
    finally:
        hub.stop()


def verdict(work):
    """The last line: what was shown, checked once more here (the refetch from the manifest
    gave the same files, byte for byte)."""
    with open(os.path.join(work, "tiny-model.json")) as f:
        m = json.load(f)
    paths = [e["path"] for e in m["files"]]
    for p in paths:
        a, b = os.path.join(work, "tiny-model", p), os.path.join(work, "again", p)
        if not filecmp.cmp(a, b, shallow=False):
            sys.exit(f"demo: {p} differs between the fetch and the refetch from the manifest")
    return (f"demo: OK: {m['repo_id']}@{m['revision']} is commit {m['commit']}; "
            f"{len(paths)} files fetched, verified, and fetched again from the manifest "
            f"byte for byte")


if __name__ == "__main__":
    main()
