"""hf-upload end to end against the fixture Hub's write API: one commit or none, LFS (basic
and multipart) through pre-signed storage, the card, pull requests, and the fetch back."""
import hashlib
import json
import os
import sys

from support import ALICE, expect_exit, peak_rss, under_asan, under_valgrind

HUB_OPTIONS = {"lfs_part_size": 1 << 20}    # multipart for LFS objects above 1 MiB
WRITE = "fixture-token-alice-write"
TINY = "acme/tiny-model"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def folder(ctx, name="src", big=(3 << 20) + 5):
    """A folder to upload: a config, a small binary (LFS by .gitattributes), a big file."""
    root = ctx.path(name)
    write(os.path.join(root, "config.json"), '{"hidden": 8}\n')
    write(os.path.join(root, "weights", "small.safetensors"), os.urandom(1000))
    write(os.path.join(root, "weights", "big.bin"), os.urandom(big))
    return root


def upload(ctx, *args, token=WRITE, **env):
    return ctx.run("hf-upload", "--progress", "none", *args, env=ctx.env(HF_TOKEN=token, **env))


def writes(ctx):
    """The write calls of the request log: (listener, method, path without query)."""
    return [(e["listener"], e["method"], e["path"].split("?")[0]) for e in ctx.hub.requests()
            if e["method"] in ("POST", "PUT")]


def tree_of(ctx, repo, rev="main"):
    return {p: f["content"]() for p, f in ctx.hub.files_at(repo, rev).items()}


def test_create_then_fetch_back(ctx):
    src = folder(ctx)
    r = upload(ctx, "--create", "--private", "-o", ctx.path("m.json"), "alice/fresh", src)
    expect_exit(r, 0, "created model alice/fresh")
    head = ctx.hub.commit_of("alice/fresh")
    assert r.out.strip() == f"{ctx.hub.endpoint}/alice/fresh/commit/{head}", r.out
    m = json.load(open(ctx.path("m.json")))
    assert m["commit"] == head and m["repo_id"] == "alice/fresh" and m["revision"] == "main"
    files = tree_of(ctx, "alice/fresh")
    assert sorted(files) == [".gitattributes", "README.md", "config.json", "weights/big.bin",
                             "weights/small.safetensors"], sorted(files)
    hub = ctx.hub.files_at("alice/fresh")
    assert hub["weights/big.bin"]["lfs"] and hub["weights/small.safetensors"]["lfs"]
    assert not hub["config.json"]["lfs"]
    for f in m["files"]:
        assert f["sha256"] == hub[f["path"]]["sha256"] and f["git_oid"] == hub[f["path"]]["git_oid"], f
    card = files["README.md"].decode()
    assert card.startswith("---\n") and "## Provenance" in card and sha256(files["weights/big.bin"]) in card
    # the manifest fetches these exact bytes back
    r = ctx.run("hf-fetch", "--lock", ctx.path("m.json"), "-o", ctx.path("back"), env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    for p in ("config.json", "weights/big.bin", "weights/small.safetensors"):
        assert open(ctx.path("back", p), "rb").read() == open(os.path.join(src, p), "rb").read(), p
    # a new repository was created once, and the token never went to storage
    log = ctx.hub.requests()
    assert [e for e in log if e["path"] == "/api/repos/create"][0]["status"] == 200
    assert all("Authorization" not in e["headers"] for e in log if e["listener"] == "cdn")
    assert WRITE not in r.out + r.err


def test_unchanged_files_skipped_and_no_change_no_commit(ctx):
    src = folder(ctx)
    expect_exit(upload(ctx, "--create", "alice/skip", src), 0)
    first = ctx.hub.commit_of("alice/skip")
    ctx.hub.clear_log()
    r = upload(ctx, "-o", "-", "alice/skip", src)
    expect_exit(r, 0, "nothing changed, no commit made")
    assert json.loads(r.out)["commit"] == first
    assert writes(ctx) == [], writes(ctx)
    assert ctx.hub.commit_of("alice/skip") == first
    # one file changes: only it is sent
    write(os.path.join(src, "config.json"), '{"hidden": 16}\n')
    ctx.hub.clear_log()
    r = upload(ctx, "alice/skip", src)
    expect_exit(r, 0, "files: 1 uploaded, 2 unchanged")
    sent = writes(ctx)
    assert not any(l == "cdn" for l, _, _ in sent), sent
    assert ctx.hub.commit_of("alice/skip") != first
    assert tree_of(ctx, "alice/skip")["config.json"] == b'{"hidden": 16}\n'


def test_dry_run_sends_nothing(ctx):
    src = folder(ctx)
    r = upload(ctx, "-n", "--create", "alice/dry", src)
    expect_exit(r, 0, "dry run")
    assert "config.json\t14\t?\tupload" in r.out, r.out
    assert writes(ctx) == [], writes(ctx)
    expect_exit(upload(ctx, "--create", "alice/dry", src), 0)
    write(os.path.join(src, "new.txt"), "new\n")
    head = ctx.hub.commit_of("alice/dry")
    ctx.hub.clear_log()
    r = upload(ctx, "-n", "--delete", "*.json", "alice/dry", os.path.join(src, "new.txt"))
    expect_exit(r, 0, "dry run")
    assert "new.txt\t4\tregular\tupload" in r.out, r.out
    assert "config.json\t\t\tdelete" in r.out, r.out
    assert [p for _, m, p in writes(ctx) if not p.endswith("/preupload/main")] == []
    assert ctx.hub.commit_of("alice/dry") == head


def test_delete_in_the_same_commit(ctx):
    src = folder(ctx)
    expect_exit(upload(ctx, "--create", "alice/del", src), 0)
    r = upload(ctx, "--delete", "weights/*", "alice/del", write(ctx.path("x", "notes.txt"), "n\n"))
    expect_exit(r, 0, "2 deleted")
    assert sorted(tree_of(ctx, "alice/del")) == [".gitattributes", "README.md", "config.json", "notes.txt"]


def test_parent_commit_conflict(ctx):
    src = folder(ctx)
    expect_exit(upload(ctx, "--create", "alice/cf", src), 0)
    old = ctx.hub.commit_of("alice/cf")
    write(os.path.join(src, "c.txt"), "c\n")
    expect_exit(upload(ctx, "alice/cf", src), 0)
    head = ctx.hub.commit_of("alice/cf")
    write(os.path.join(src, "d.txt"), "d\n")
    ctx.hub.clear_log()
    r = upload(ctx, "--parent-commit", old, "alice/cf", src)
    expect_exit(r, 8, "not at --parent-commit")
    assert writes(ctx) == [] and ctx.hub.commit_of("alice/cf") == head
    r = upload(ctx, "--parent-commit", head, "alice/cf", src)
    expect_exit(r, 0)


def test_hub_conflict_is_8(ctx):
    src = folder(ctx)
    expect_exit(upload(ctx, "--create", "alice/race", src), 0)
    write(os.path.join(src, "e.txt"), "e\n")
    ctx.hub.add_fault({"repo": "alice/race", "where": "commit", "kind": "status", "status": 412,
                       "message": "A commit has happened since.", "times": 1})
    head = ctx.hub.commit_of("alice/race")
    expect_exit(upload(ctx, "alice/race", src), 8, "A commit has happened since")
    assert ctx.hub.commit_of("alice/race") == head


def test_commit_whose_answer_was_lost(ctx):
    """The Hub applies the commit, the connection drops before its answer: the retry is refused
    (412, the branch moved), but the branch holds this upload, so it is a success naming that
    commit, not a conflict; a conflict with someone else's commit stays exit 8 (above)."""
    src = folder(ctx)
    repo = "alice/lost"
    expect_exit(upload(ctx, "--create", repo, src), 0)
    before = ctx.hub.commit_of(repo)
    write(os.path.join(src, "f.txt"), "f\n")
    ctx.hub.add_fault({"repo": repo, "where": "commit", "kind": "lost_answer", "times": 1})
    ctx.hub.clear_log()
    r = upload(ctx, "-o", ctx.path("lost.json"), repo, src)
    expect_exit(r, 0)
    assert "the answer to the commit was lost" in r.err, r.err
    head = ctx.hub.commit_of(repo)
    assert head != before and json.load(open(ctx.path("lost.json")))["commit"] == head
    assert tree_of(ctx, repo)["f.txt"] == b"f\n"
    commits = [e for e in writes(ctx) if e[2].startswith("/api/models/alice/lost/commit/")]
    assert len(commits) == 2, commits  # the one applied, and its retry refused


def test_tokens(ctx):
    src = folder(ctx)
    r = upload(ctx, "--create", "alice/tok", src, token=ALICE)
    expect_exit(r, 4, "write")
    r = upload(ctx, "--create", "alice/tok", src, token=None)
    expect_exit(r, 4, "token with write access")
    r = upload(ctx, "bob/x", src, token="fixture-token-bob-write")
    expect_exit(r, 3, "--create")
    r = upload(ctx, TINY, src, token="fixture-token-bob-write")
    expect_exit(r, 4)
    assert ctx.hub.refs_of(TINY)["branches"]["main"] == ctx.hub.commit_of(TINY)


def test_missing_repo_without_create(ctx):
    r = upload(ctx, "alice/nope", folder(ctx))
    expect_exit(r, 3, "not found", "--create")
    assert writes(ctx) == []
    # a missing branch is not a missing repository: no advice to create one
    r = upload(ctx, "-r", "no-such-branch", TINY, folder(ctx))
    expect_exit(r, 3, "no-such-branch")
    assert "--create" not in r.err, r.err
    assert writes(ctx) == []


def test_multipart_in_several_parts(ctx):
    src = folder(ctx, big=(3 << 20) + 12345)
    expect_exit(upload(ctx, "--create", "-j", "2", "alice/mp", src), 0)
    big = open(os.path.join(src, "weights", "big.bin"), "rb").read()
    parts = [e for e in ctx.hub.requests() if e["listener"] == "cdn" and e["method"] == "PUT"
             and e["path"].startswith("/upload/" + sha256(big)) and "partNumber=" in e["path"]]
    assert len(parts) == 4 and all(e["status"] == 200 for e in parts), len(parts)
    assert any(p == "/api/complete_multipart" for _, _, p in writes(ctx))
    assert tree_of(ctx, "alice/mp")["weights/big.bin"] == big


def test_faults_are_retried(ctx):
    src = folder(ctx)
    repo = "alice/flaky"
    expect_exit(upload(ctx, "--create", repo, ctx.path("src", "config.json")), 0)
    for where, status in (("preupload", 503), ("batch", 502), ("complete", 500), ("verify", 504),
                          ("commit", 429)):
        ctx.hub.add_fault({"repo": repo, "where": where, "kind": "status", "status": status,
                           "retry_after": 0, "times": 1})
    ctx.hub.add_fault({"repo": repo, "where": "upload", "kind": "status", "status": 503,
                       "retry_after": 0, "times": 1})
    ctx.hub.add_fault({"repo": repo, "where": "upload", "kind": "drop", "times": 1})
    r = upload(ctx, repo, src)
    expect_exit(r, 0)
    assert ctx.hub.faults() == [] or all(f.get("times") == 0 for f in ctx.hub.faults()), ctx.hub.faults()
    assert tree_of(ctx, repo)["weights/big.bin"] == open(os.path.join(src, "weights", "big.bin"), "rb").read()


def test_failure_leaves_the_branch_and_rerun_sends_what_is_missing(ctx):
    src = folder(ctx)
    repo = "alice/atomic"
    expect_exit(upload(ctx, "--create", repo, ctx.path("src", "config.json")), 0)
    head = ctx.hub.commit_of(repo)
    # the commit keeps failing: every LFS object is in place, the branch is not moved
    ctx.hub.add_fault({"repo": repo, "where": "commit", "kind": "status", "status": 500, "retry_after": 0})
    r = upload(ctx, repo, src)
    expect_exit(r, 6, "HTTP 500")
    assert ctx.hub.commit_of(repo) == head
    # storage refuses a part: nothing committed either
    ctx.hub.clear_faults()
    write(os.path.join(src, "weights", "other.bin"), os.urandom(5000))
    ctx.hub.add_fault({"repo": repo, "where": "upload", "kind": "status", "status": 403})
    ctx.hub.clear_log()
    r = upload(ctx, repo, src)
    expect_exit(r, 6, "storage refused")
    assert "after 3 fresh URLs from the Hub" in r.err, r.err
    assert batch_calls(ctx) == 4, batch_calls(ctx)
    assert ctx.hub.commit_of(repo) == head
    # the rerun sends only what the Hub lacks
    ctx.hub.clear_faults()
    ctx.hub.clear_log()
    expect_exit(upload(ctx, repo, src), 0)
    puts = [p for l, m, p in writes(ctx) if l == "cdn"]
    assert puts == ["/upload/" + sha256(open(os.path.join(src, "weights", "other.bin"), "rb").read())], puts
    assert ctx.hub.commit_of(repo) != head


def batch_calls(ctx):
    return sum(1 for _, m, p in writes(ctx) if p.endswith("/info/lfs/objects/batch"))


def test_refused_upload_url_is_replaced(ctx):
    """The storage host refuses a pre-signed URL once (expired): the batch API is asked again,
    the object goes up on a fresh URL, one commit."""
    src = folder(ctx)
    repo = "alice/expiring"
    expect_exit(upload(ctx, "--create", repo, ctx.path("src", "config.json")), 0)
    head = ctx.hub.commit_of(repo)
    ctx.hub.clear_log()
    # as S3 may say it: a 400, not a 403, whose body says the URL expired
    ctx.hub.add_fault({"repo": repo, "where": "upload", "kind": "status", "status": 400,
                       "message": "Request has expired", "times": 1})
    r = upload(ctx, "-v", repo, src)
    expect_exit(r, 0)
    assert "asking the Hub for fresh upload URLs (1 of 3)" in r.err, r.err
    assert batch_calls(ctx) == 2, batch_calls(ctx)
    assert "X-Amz" not in r.err, r.err
    assert ctx.hub.commit_of(repo) != head
    assert tree_of(ctx, repo)["weights/big.bin"] == open(os.path.join(src, "weights", "big.bin"), "rb").read()


def test_space_is_created_with_its_sdk(ctx):
    """A Space needs its SDK to be created: hf-upload asks for it before any request, sends it
    in the create call, and refuses it where it means nothing."""
    src = ctx.path("src", "config.json")
    write(src, "{}\n")
    ctx.hub.clear_log()
    r = upload(ctx, "--create", "-t", "space", "alice/app", src)
    expect_exit(r, 2, "--create of a Space needs --space-sdk")
    assert ctx.hub.requests() == [], ctx.hub.requests()
    expect_exit(upload(ctx, "--create", "-t", "space", "--space-sdk", "flask", "alice/app", src),
                2, "--space-sdk takes gradio, streamlit, docker or static, not 'flask'")
    expect_exit(upload(ctx, "--create", "--space-sdk", "gradio", "alice/model", src), 2,
                "--space-sdk goes with --create and --repo-type space")
    # the fixture, as huggingface_hub, makes no Space without a valid SDK: this one was sent
    expect_exit(upload(ctx, "--create", "-t", "space", "--space-sdk", "docker", "alice/app", src), 0)
    assert [p for _, _, p in writes(ctx)].count("/api/repos/create") == 1
    assert "config.json" in ctx.hub.files_at("alice/app", repo_type="space")


def test_regular_files_streamed_in_the_commit(ctx):
    """Regular files go inline in the commit body (base64), which is streamed from a
    temporary file: 32 MiB of them (a 43 MiB body) do not make hf-upload hold the body, only
    one file's line at a time; the commit has every byte."""
    root = ctx.path("texts")
    line = b"".join(b"%08d the quick brown fox jumps over the lazy dog\n" % i for i in range(1000))
    sizes = {}
    for k in range(4):
        data = (line * ((8 << 20) // len(line) + 1))[: (8 << 20) - k]   # under 10 MiB: regular
        write(os.path.join(root, "part-%d.txt" % k), data)
        sizes["part-%d.txt" % k] = len(data)
    r, rss = peak_rss(ctx, "hf-upload", "--progress", "none", "--create", "alice/texts", root,
                      env=ctx.env(HF_TOKEN=WRITE))
    expect_exit(r, 0)
    tree = tree_of(ctx, "alice/texts")
    for name, size in sizes.items():
        assert tree[name] == open(os.path.join(root, name), "rb").read(), name
    batches = [e for e in ctx.hub.requests() if e["path"].endswith("/info/lfs/objects/batch")]
    assert batches == [], "regular files, not LFS"
    # the body went out whole, with its length known: the four files in base64, and more
    commit = [e for e in ctx.hub.requests() if e["method"] == "POST" and "/commit/" in e["path"]]
    assert len(commit) == 1 and int(commit[0]["headers"]["Content-Length"]) > \
        sum(sizes.values()) * 4 // 3, commit
    sys.stderr.write("     upload: peak RSS %.1f MiB for 4 regular files of 8 MiB\n" % (rss / 1024))
    if under_valgrind() or under_asan():
        return   # what getrusage sees is valgrind's, or ASan's shadow and quarantine
    # one file's line at a time, spilled every MiB: about 15 MiB (88 MiB when each line went
    # through jansson and the whole body was held)
    assert rss < 32 * 1024, "hf-upload peaked at %.1f MiB" % (rss / 1024)


def test_token_never_printed_nor_sent_to_storage(ctx):
    src = folder(ctx)
    r = upload(ctx, "-v", "--create", "alice/secret", src)
    expect_exit(r, 0)
    assert WRITE not in r.out and WRITE not in r.err
    cdn = [e for e in ctx.hub.requests() if e["listener"] == "cdn"]
    assert cdn and all("Authorization" not in e["headers"] for e in cdn)
    assert all(e["status"] == 200 for e in cdn)


def test_pull_request(ctx):
    src = folder(ctx)
    expect_exit(upload(ctx, "--create", "alice/prs", src), 0)
    head = ctx.hub.commit_of("alice/prs")
    write(os.path.join(src, "proposal.txt"), "p\n")
    r = upload(ctx, "--pr", "-m", "Propose", "-o", ctx.path("pr.json"), "alice/prs", src)
    expect_exit(r, 0)
    assert r.out.strip() == f"{ctx.hub.endpoint}/alice/prs/discussions/1", r.out
    assert ctx.hub.commit_of("alice/prs") == head
    pr = ctx.hub.commit_of("alice/prs", "refs/pr/1")
    m = json.load(open(ctx.path("pr.json")))
    assert m["revision"] == "refs/pr/1" and m["commit"] == pr
    assert "proposal.txt" in ctx.hub.files_at("alice/prs", "refs/pr/1")


def test_card_merged_into_an_existing_readme(ctx):
    before = tree_of(ctx, TINY)["README.md"].decode()
    write(ctx.path("card.yml"), "license: mit\ntags:\n- yes\n- 'null'\npipeline_tag: text-generation\n")
    r = upload(ctx, "--card", ctx.path("card.yml"), TINY, write(ctx.path("x", "notes.txt"), "n\n"))
    expect_exit(r, 0)
    after = tree_of(ctx, TINY)["README.md"].decode()
    info = ctx.hub.repo(TINY).card_data(ctx.hub.repo(TINY).resolve("main"))
    assert info["license"] == "mit" and info["pipeline_tag"] == "text-generation", info
    assert info["tags"] == ["yes", "null"] and info["library_name"] == "transformers", info
    assert after.split("\n---\n", 1)[1] == before.split("\n---\n", 1)[1], after
    # without --card an existing card is left as it is (and --card-output gives it)
    r = upload(ctx, "--card-output", ctx.path("card.md"), TINY, write(ctx.path("x", "more.txt"), "m\n"))
    expect_exit(r, 0)
    assert tree_of(ctx, TINY)["README.md"].decode() == after
    assert open(ctx.path("card.md")).read() == after


def test_card_from_sources(ctx):
    r = ctx.run("hf-fetch", "-o", ctx.path("in"), "-m", ctx.path("in.json"), TINY, "config.json")
    expect_exit(r, 0)
    write(ctx.path("card.yml"), "license: apache-2.0\nlanguage: en\n")
    r = upload(ctx, "--create", "--card", ctx.path("card.yml"), "--card-source", ctx.path("in.json"),
               "--tag", "galaxy", "alice/derived", ctx.path("in", "config.json"))
    expect_exit(r, 0)
    card = tree_of(ctx, "alice/derived")["README.md"].decode()
    meta = ctx.hub.repo("alice/derived").card_data(ctx.hub.repo("alice/derived").resolve("main"))
    assert meta == {"license": "apache-2.0", "language": "en", "base_model": TINY, "tags": ["galaxy"]}, meta
    assert ctx.hub.commit_of(TINY) in card and "acme/tiny-model" in card


def test_invalid_card_refused_before_anything_is_sent(ctx):
    for text, words in (("license: not-a-license\n", "license"),
                        ("base_model: not a repo\n", "base_model"),
                        ("tags:\n- 1\n- two\n", "tags"),
                        ("- a\n- b\n", "mapping")):
        write(ctx.path("card.yml"), text)
        r = upload(ctx, "--create", "--card", ctx.path("card.yml"), "alice/badcard",
                   write(ctx.path("a.txt"), "a\n"))
        expect_exit(r, 2, words)
    assert ctx.hub.requests() == []


def test_hub_refusing_the_card_is_2(ctx):
    expect_exit(upload(ctx, "--create", "--no-card", "alice/hubcard", write(ctx.path("a.txt"), "a\n")), 0)
    head = ctx.hub.commit_of("alice/hubcard")
    write(ctx.path("x", "README.md"), "---\nlicense: proprietary-thing\n---\nhi\n")
    r = upload(ctx, "alice/hubcard", ctx.path("x", "README.md"))
    expect_exit(r, 2, "Invalid metadata in README.md")
    assert ctx.hub.commit_of("alice/hubcard") == head


def test_unsafe_and_colliding_paths_refused(ctx):
    a = write(ctx.path("a.txt"), "a\n")
    for args, words in (([f"{a}=../x"], "'..'"), ([f"{a}=/etc/x"], "absolute"),
                        ([f"{a}=.git/config"], ".git/"), ([a, f"{a}=a.txt"], "twice"),
                        (["--path-in-repo", "../up", a], "path-in-repo")):
        r = upload(ctx, "--create", "alice/paths", *args)
        expect_exit(r, 2)
        assert any(w in r.err for w in (words, "..", "absolute")), r.err
    assert ctx.hub.requests() == []


def test_file_equals_path_and_path_in_repo(ctx):
    a = write(ctx.path("a.txt"), "a\n")
    src = folder(ctx)
    eq = write(ctx.path("k=v.txt"), "eq\n")
    r = upload(ctx, "--create", "--no-card", "--path-in-repo", "run1", "-x", "*.bin",
               "alice/layout", f"{a}=docs/A.txt", src, f"{eq}=p=q.txt")
    expect_exit(r, 0)
    assert sorted(tree_of(ctx, "alice/layout")) == [".gitattributes", "run1/config.json", "run1/docs/A.txt",
                                                   "run1/p=q.txt", "run1/weights/small.safetensors"]
