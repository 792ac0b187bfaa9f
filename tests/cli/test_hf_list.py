"""hf-list end to end, against the fixture Hub."""
import json
import os
import socket

from support import ALICE, BOB, expect_exit, parse_tsv

TINY = "acme/tiny-model"


def listed(r):
    meta, cols, rows = parse_tsv(r.out)
    return meta, {row["path"]: row for row in rows}


def expected_files(ctx, repo, rev, repo_type="model"):
    return ctx.hub.files_at(repo, rev, repo_type=repo_type)


def check_rows_match(rows, files):
    assert sorted(rows) == sorted(files), (sorted(rows), sorted(files))
    for path, f in files.items():
        row = rows[path]
        assert int(row["size"]) == f["size"], (path, row, f)
        assert row["lfs"] == ("true" if f["lfs"] else "false"), (path, row)
        assert row["git_oid"] == f["git_oid"], (path, row)
        assert row["sha256"] == (f["sha256"] if f["lfs"] else ""), (path, row)


# --- repository types and revision forms ---------------------------------------------------

def test_model_at_main_tsv(ctx):
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 0)
    meta, rows = listed(r)
    commit = ctx.hub.commit_of(TINY, "main")
    assert meta == {"repo_id": TINY, "repo_type": "model", "revision": "main",
                    "commit": commit}, meta
    check_rows_match(rows, expected_files(ctx, TINY, "main"))
    assert list(rows) == sorted(rows, key=lambda p: p.encode()), "not sorted by path"
    assert f"resolved to commit {commit}" in r.err
    # the revision was resolved once and the tree listed at the commit
    paths = [q["path"] for q in ctx.hub.requests()]
    assert paths[0].startswith(f"/api/models/{TINY}/revision/main"), paths
    assert all(f"/tree/{commit}" in p for p in paths[1:]), paths


def test_dataset_json(ctx):
    repo = "acme/tiny-dataset"
    r = ctx.run("hf-list", "-t", "dataset", "-f", "json", repo)
    expect_exit(r, 0)
    doc = r.json()
    assert list(doc) == ["repo_id", "repo_type", "revision", "commit", "endpoint", "files"], doc
    assert doc["repo_type"] == "dataset" and doc["endpoint"] == ctx.hub.endpoint
    assert doc["commit"] == ctx.hub.commit_of(repo, "main", repo_type="dataset")
    files = expected_files(ctx, repo, "main", "dataset")
    assert [f["path"] for f in doc["files"]] == sorted(files, key=lambda p: p.encode())
    for f in doc["files"]:
        want = files[f["path"]]
        assert list(f) == ["path", "size", "lfs", "sha256", "git_oid"], f
        assert f["size"] == want["size"] and f["lfs"] == want["lfs"]
        assert f["sha256"] == (want["sha256"] if want["lfs"] else None), f
        assert f["git_oid"] == want["git_oid"]
    assert any(f["lfs"] for f in doc["files"]), "the dataset has an LFS file"
    assert ctx.hub.requests()[0]["path"].startswith(f"/api/datasets/{repo}/")


def test_space(ctx):
    repo = "acme/tiny-space"
    r = ctx.run("hf-list", "--repo-type", "space", repo)
    expect_exit(r, 0)
    _, rows = listed(r)
    check_rows_match(rows, expected_files(ctx, repo, "main", "space"))
    assert ctx.hub.requests()[0]["path"].startswith(f"/api/spaces/{repo}/")


def test_revision_forms(ctx):
    first = ctx.hub.commit_of(TINY, "v1.0")
    for rev in ["main", "dev", "v1.0", "refs/pr/1", "HEAD", first]:
        r = ctx.run("hf-list", "-r", rev, "-f", "json", TINY)
        expect_exit(r, 0)
        doc = r.json()
        assert doc["revision"] == rev
        assert doc["commit"] == ctx.hub.commit_of(TINY, rev), (rev, doc["commit"])
        got = {f["path"] for f in doc["files"]}
        assert got == set(expected_files(ctx, TINY, rev)), rev
    # refs/pr/1 travels percent-encoded as one segment
    assert any("/revision/refs%2Fpr%2F1" in q["path"] for q in ctx.hub.requests())
    # the branches differ, so the listings really are per revision
    assert ctx.hub.commit_of(TINY, "dev") != ctx.hub.commit_of(TINY, "main")


def test_utf8_and_spaces(ctx):
    r = ctx.run("hf-list", TINY)
    _, rows = listed(r)
    assert "sub dir/file with spaces.txt" in rows
    assert "données/é.txt" in rows


def test_many_files_three_pages(ctx):
    repo = "acme/many-files"
    r = ctx.run("hf-list", "-f", "json", repo)
    expect_exit(r, 0)
    doc = r.json()
    assert len(doc["files"]) == 2500, len(doc["files"])
    tree = [q for q in ctx.hub.requests() if "/tree/" in q["path"]]
    assert len(tree) == 3, [q["path"] for q in tree]
    assert "cursor=" in tree[1]["path"] and "cursor=" in tree[2]["path"]


def test_small_pages(ctx):
    ctx.hub.page_size = 7
    r = ctx.run("hf-list", "-f", "json", TINY)
    expect_exit(r, 0)
    assert {f["path"] for f in r.json()["files"]} == set(expected_files(ctx, TINY, "main"))


# --- selection -----------------------------------------------------------------------------

def test_include_exclude(ctx):
    r = ctx.run("hf-list", "-i", "*.json", "-i", "*.bin", "-x", "tokenizer/*", TINY)
    expect_exit(r, 0)
    _, rows = listed(r)
    want = {p for p in expected_files(ctx, TINY, "main")
            if (p.endswith(".json") or p.endswith(".bin")) and not p.startswith("tokenizer/")}
    assert set(rows) == want and want, (set(rows), want)
    r = ctx.run("hf-list", "--include", "sub dir/", TINY)
    _, rows = listed(r)
    assert set(rows) == {"sub dir/file with spaces.txt"}, rows


def test_path_and_no_recursive(ctx):
    r = ctx.run("hf-list", "-p", "tokenizer", TINY)
    expect_exit(r, 0)
    _, rows = listed(r)
    assert set(rows) == {p for p in expected_files(ctx, TINY, "main")
                         if p.startswith("tokenizer/")}
    r = ctx.run("hf-list", "--no-recursive", TINY)
    expect_exit(r, 0)
    _, rows = listed(r)
    top = {p.split("/")[0] + ("/" if "/" in p else "") for p in expected_files(ctx, TINY, "main")}
    assert set(rows) == top, (set(rows), top)
    for p, row in rows.items():
        if p.endswith("/"):
            assert row["size"] == "0" and row["lfs"] == "false", row
    assert "recursive=false" in ctx.hub.requests()[-1]["path"]
    r = ctx.run("hf-list", "-p", "does-not-exist", TINY)
    expect_exit(r, 3, "does-not-exist")


# --- private and gated ---------------------------------------------------------------------

def test_private_without_token(ctx):
    r = ctx.run("hf-list", "acme/private-model")
    expect_exit(r, 4, "acme/private-model", "token")


def test_private_with_token_env_file_and_home(ctx):
    r = ctx.run("hf-list", "acme/private-model", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    hub_reqs = ctx.hub.requests()
    assert all(q["headers"].get("Authorization") == f"Bearer {ALICE}" for q in hub_reqs)
    token_file = ctx.path("tok")
    with open(token_file, "w") as f:
        f.write(ALICE + "\n")
    r = ctx.run("hf-list", "--token-file", token_file, "acme/private-model")
    expect_exit(r, 0)
    r = ctx.run("hf-list", "acme/private-model", env=ctx.env(HF_TOKEN_PATH=token_file))
    expect_exit(r, 0)
    os.makedirs(ctx.path("hf-home"), exist_ok=True)
    with open(ctx.path("hf-home", "token"), "w") as f:
        f.write(ALICE)
    r = ctx.run("hf-list", "acme/private-model")
    expect_exit(r, 0)
    for run in ctx.runs:
        assert ALICE not in run.out + run.err and ALICE not in " ".join(run.argv)


def test_private_token_without_access(ctx):
    r = ctx.run("hf-list", "acme/private-model", env=ctx.env(HF_TOKEN=BOB))
    expect_exit(r, 3, "acme/private-model")
    assert BOB not in r.err


def test_bad_token(ctx):
    r = ctx.run("hf-list", TINY, env=ctx.env(HF_TOKEN="fixture-token-nobody"))
    expect_exit(r, 4, "refused the token")
    assert "fixture-token-nobody" not in r.err + r.out


def test_gated_listing_is_public(ctx):
    r = ctx.run("hf-list", "acme/gated-model")
    expect_exit(r, 0)


def test_gated_api_401_and_403(ctx):
    r = ctx.run("hf-list", "acme/gated-listing-model")
    expect_exit(r, 4, "gated", "token is needed")
    r = ctx.run("hf-list", "acme/gated-listing-model", env=ctx.env(HF_TOKEN=BOB))
    expect_exit(r, 4, "gated", "request access")
    r = ctx.run("hf-list", "acme/gated-listing-model", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)


def test_disabled(ctx):
    r = ctx.run("hf-list", "acme/disabled-model")
    expect_exit(r, 4, "disabled")


def test_renamed_follows_relative_redirect(ctx):
    r = ctx.run("hf-list", "-f", "json", "acme/old-name", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert r.json()["commit"] == ctx.hub.commit_of(TINY, "main")
    statuses = [q["status"] for q in ctx.hub.requests()]
    assert 307 in statuses, statuses


# --- errors --------------------------------------------------------------------------------

def test_usage_errors(ctx):
    expect_exit(ctx.run("hf-list", "bad--id/x"), 2, "invalid repository id")
    expect_exit(ctx.run("hf-list", "-r", "ma\x01in", TINY), 2, "control character")
    expect_exit(ctx.run("hf-list", "-r", "a..b", TINY), 2, "invalid revision")
    r = ctx.run("hf-list", "--frobnicate", TINY)
    assert r.code == 2, r
    expect_exit(ctx.run("hf-list"), 2, "REPO_ID")
    expect_exit(ctx.run("hf-list", "a", "b"), 2)
    expect_exit(ctx.run("hf-list", "-t", "widget", TINY), 2, "widget")
    expect_exit(ctx.run("hf-list", "-f", "xml", TINY), 2, "xml")
    expect_exit(ctx.run("hf-list", "-p", "../etc", TINY), 2, "--path")
    expect_exit(ctx.run("hf-list", "--endpoint", "ftp://x", TINY), 2, "endpoint")
    expect_exit(ctx.run("hf-list", "--token-file", ctx.path("missing"), TINY), 2, "token file")
    expect_exit(ctx.run("hf-list", TINY, env=ctx.env(HF_TOKEN="a\r\nX-Evil: 1")), 2, "token")
    assert ctx.hub.requests() == [], "no request for bad input"


def test_help_and_version(ctx):
    r = ctx.run("hf-list", "--help")
    assert r.code == 0 and "Usage: hf-list" in r.out and "Exit codes" in r.out
    r = ctx.run("hf-list", "-V")
    assert r.code == 0 and r.out.startswith("hf-list ")


def test_not_found(ctx):
    expect_exit(ctx.run("hf-list", "acme/nope"), 4, "acme/nope")  # anonymous: 401
    expect_exit(ctx.run("hf-list", "acme/nope", env=ctx.env(HF_TOKEN=ALICE)), 3, "not found")
    expect_exit(ctx.run("hf-list", "-r", "no-such-branch", TINY), 3, "no-such-branch")
    expect_exit(ctx.run("hf-list", "-t", "dataset", TINY, env=ctx.env(HF_TOKEN=ALICE)), 3)


def test_network_failure(ctx):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = ctx.run("hf-list", "--endpoint", f"http://127.0.0.1:{port}", TINY, timeout=120)
    expect_exit(r, 6, f"127.0.0.1:{port}")


# --- faults --------------------------------------------------------------------------------

def test_retry_after_429_then_success(ctx):
    ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "status", "status": 429,
                       "retry_after": 1, "times": 1})
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "status", "status": 503,
                       "times": 1})
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 0)
    statuses = [q["status"] for q in ctx.hub.requests()]
    assert 429 in statuses and 503 in statuses, statuses


def test_ratelimit_header_then_success(ctx):
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "status", "status": 429,
                       "ratelimit_t": 0, "times": 2})
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 0)
    assert [q["status"] for q in ctx.hub.requests()][:3] == [429, 429, 200]


def test_persistent_failure_exit_6(ctx):
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "status", "status": 429,
                       "retry_after": 0})
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 6, "429")
    assert len(ctx.hub.requests()) == 6, "one try and five retries"


def test_unsafe_paths_refused(ctx):
    for bad in ["../x", "/etc/passwd", "a\\b", "ctl\x01x", "a//b", "a/./b"]:
        ctx.hub.clear_faults()
        ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "unsafe_paths",
                           "paths": [bad]})
        r = ctx.run("hf-list", TINY)
        expect_exit(r, 5, "unsafe path")
        assert r.out == "", "nothing listed when the listing is refused"


def test_endless_cursor_refused(ctx):
    ctx.hub.page_size = 3
    ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "endless_cursor",
                       "mode": "repeat"})
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 5, "repeats a page")


def test_cursor_that_never_ends_refused(ctx):
    ctx.hub.page_size = 1
    ctx.hub.add_fault({"repo": "acme/tiny-space", "where": "tree", "kind": "endless_cursor",
                       "mode": "new"})
    r = ctx.run("hf-list", "-t", "space", "acme/tiny-space", timeout=600)
    expect_exit(r, 5, "more than 10000 pages")


def test_malformed_json(ctx):
    ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "bad_json"})
    expect_exit(ctx.run("hf-list", TINY), 5, "malformed")
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "bad_json"})
    expect_exit(ctx.run("hf-list", TINY), 5, "malformed")


def test_verbose_never_shows_token(ctx):
    r = ctx.run("hf-list", "-v", "acme/private-model", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert "GET " in r.err, "verbose names the requests"
    assert ALICE not in r.err + r.out


def test_no_request_to_other_hosts(ctx):
    r = ctx.run("hf-list", "acme/private-model", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert all(q["listener"] == "hub" for q in ctx.hub.requests())
    assert not [q for q in ctx.hub.requests() if q["listener"] == "cdn"
                and "Authorization" in q["headers"]]
