"""The transfer engine (src/transfer.c) that every binary shares: answers that bring no
progress end in exit 6 after the retries (never a loop), an API answer that drips never
hangs (HF_HUB_API_TIMEOUT), downloads have no total deadline, a storage URL that expired is
replaced by a fresh one from the Hub and the file resumed, and a retry's message never says
it gave up. The slow cases (each waits through the 1, 2, 4, 8, 8 s of backoff) run at once."""
import concurrent.futures
import hashlib
import os
import tarfile
import time

from support import expect_exit

TINY = "acme/tiny-model"
EXPIRED = "the storage URL expired or was refused, fetching a new one"


def files_of(ctx, repo, rev="main"):
    return ctx.hub.files_at(repo, rev)


def check_folder(ctx, out, repo):
    for p, f in files_of(ctx, repo).items():
        assert open(os.path.join(out, p), "rb").read() == f["content"](), p


def cdn_requests(ctx, sha256):
    return [q for q in ctx.hub.requests() if q["listener"] == "cdn" and sha256 in q["path"]]


def expiring_urls(ctx, cut_at, expired_twice):
    """model.safetensors: cut at byte cut_at, on a URL that serves one request only (the
    resume finds it expired); weights/part-00001.bin: URLs expired before their first use,
    once or twice."""
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "drop", "after": cut_at, "times": 1})
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "kind": "expire_url",
                       "uses": 1, "times": 1})
    ctx.hub.add_fault({"repo": TINY, "path": "weights/part-00001.bin", "kind": "expire_url",
                       "seconds": 0, "times": 2 if expired_twice else 1})


def test_no_progress_and_dripping_answers_end_in_exit_6(ctx):
    """A 206 with no body (after a cut) and an API answer dripping a byte every half second:
    failed tries with backoff, then exit 6, for hf-fetch, hf-bundle --repo and hf-list."""
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "drop", "after": 1000, "times": 2})
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "empty_range"})
    ctx.hub.add_fault({"repo": "acme/tiny-dataset", "where": "api", "kind": "drip"})
    env = ctx.env(HF_HUB_API_TIMEOUT="2")
    runs = {
        "fetch": ("hf-fetch", "-o", ctx.path("o"), TINY, "model.safetensors"),
        "bundle": ("hf-bundle", "-o", ctx.path("b.tar"), "--repo", TINY,
                   "-i", "model.safetensors"),
        "list": ("hf-list", "-t", "dataset", "acme/tiny-dataset"),
    }
    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futs = {k: pool.submit(ctx.run, *argv, env=env, timeout=110) for k, argv in runs.items()}
        res = {k: f.result() for k, f in futs.items()}
    took = time.monotonic() - t
    for k, r in res.items():
        expect_exit(r, 6)
        assert "kept failing" not in r.err.split("error:")[0], r.err
        # 6 tries without progress, the 5 waits of the backoff between them
        waits = [w for w in ("1.0", "2.0", "4.0", "8.0", "8.0") if f"retrying in {w} s" in r.err]
        assert len(waits) == 5 and r.err.count("retrying in 8.0 s") == 2, r
        assert "(try 6 of 6)" in r.err and "(try 7 of" not in r.err, r
    assert "ended after 1000 of 1048576 bytes" in res["fetch"].err, res["fetch"].err
    assert "within 2.0 s (HF_HUB_API_TIMEOUT)" in res["list"].err, res["list"].err
    assert res["list"].out == ""
    assert not os.path.exists(ctx.path("b.tar")) and not os.path.exists(
        ctx.path("o", "model.safetensors"))
    assert took < 90, took


def test_resumes_that_crawl_are_capped(ctx):
    """A server that sends one byte per connection for ever: each resume moves on (so it
    comes at once), but after 100 of them hf-fetch and hf-bundle --repo give up (exit 6)."""
    ctx.hub.add_fault({"repo": TINY, "path": "README.md", "where": "resolve", "kind": "short",
                       "after": 1})
    size = files_of(ctx, TINY)["README.md"]["size"]
    assert size > 101, size
    runs = (("hf-fetch", "-o", ctx.path("o"), TINY, "README.md"),
            ("hf-bundle", "-o", ctx.path("b.tar"), "--repo", TINY, "-i", "README.md"))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        res = list(pool.map(lambda argv: ctx.run(*argv, timeout=100), runs))
    for (tool, *_), r in zip(runs, res):
        expect_exit(r, 6, "gave up on README.md after 100 resumes")
        ranges = [q["headers"].get("Range") for q in ctx.hub.requests()
                  if "resolve-cache" in q["path"] and
                  q["headers"].get("User-Agent", "").startswith(tool + "/")]
        assert ranges == [None] + [f"bytes={i}-" for i in range(1, 101)], ranges
    assert not os.path.exists(ctx.path("b.tar"))
    assert not os.path.exists(ctx.path("o", "README.md"))


def test_dripping_answer_once_is_retried(ctx):
    ctx.hub.add_fault({"repo": TINY, "where": "api", "kind": "drip", "times": 1})
    r = ctx.run("hf-list", TINY, env=ctx.env(HF_HUB_API_TIMEOUT="1"), timeout=60)
    expect_exit(r, 0)
    assert "HF_HUB_API_TIMEOUT" in r.err and "retrying in 1.0 s (try 2 of 6)" in r.err, r.err
    assert "model.safetensors" in r.out


def test_dripping_error_answer_of_a_download_is_retried(ctx):
    """The body of an error answer to a file request is an API answer: a 500 whose message
    drips (2 bytes a second, for minutes) is cut at HF_HUB_API_TIMEOUT and retried."""
    ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve", "kind": "status",
                       "status": 500, "retry_after": 0, "drip": True, "times": 1,
                       "message": "slow " * 100})
    for tool, args in (("hf-fetch", ("-o", ctx.path("o"), TINY, "config.json")),
                       ("hf-bundle", ("-o", ctx.path("b.tar"), "--repo", TINY,
                                      "-i", "config.json"))):
        r = ctx.run(tool, *args, env=ctx.env(HF_HUB_API_TIMEOUT="1"), timeout=60)
        expect_exit(r, 0)
        assert "within 1.0 s (HF_HUB_API_TIMEOUT); retrying" in r.err, r.err
        ctx.hub.add_fault({"repo": TINY, "path": "config.json", "where": "resolve",
                           "kind": "status", "status": 500, "retry_after": 0, "drip": True,
                           "times": 1, "message": "slow " * 100})


def test_downloads_have_no_total_deadline(ctx):
    """A download slower than the API's deadline (a 3 s pause mid-body) is not cut."""
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "stall", "after": 1 << 19, "seconds": 3, "times": 1})
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-o", out, TINY, "model.safetensors",
                env=ctx.env(HF_HUB_API_TIMEOUT="1"))
    expect_exit(r, 0)
    assert "retrying" not in r.err, r.err
    assert len([q for q in ctx.hub.requests() if q["listener"] == "cdn"]) == 1


def test_retry_message_does_not_say_it_gave_up(ctx):
    faults = [{"repo": TINY, "path": "config.json", "where": "resolve", "kind": "status",
               "status": 503, "times": 2, "retry_after": 0},
              {"repo": TINY, "where": "api", "kind": "status", "status": 500, "times": 1,
               "retry_after": 0}]
    ctx.hub.set_faults(faults)
    for tool, args in (("hf-fetch", ("-o", ctx.path("o"), TINY, "config.json")),
                       ("hf-bundle", ("-o", ctx.path("b.tar"), "--repo", TINY,
                                      "-i", "config.json"))):
        r = ctx.run(tool, *args)
        expect_exit(r, 0)
        assert "retrying in" in r.err, r.err
        assert "kept failing" not in r.err and "after retries" not in r.err, r.err
        ctx.hub.set_faults([dict(f) for f in faults])


def test_expired_storage_url_in_parallel_fetch(ctx):
    """Of 15 files fetched 8 at a time, one's storage URL is refused once it has served a
    request (cut short: its resume finds it expired), another's has expired before its first
    use, twice: both get fresh URLs from the Hub and resume; every file is whole."""
    sf = files_of(ctx, TINY)["model.safetensors"]
    part = files_of(ctx, TINY)["weights/part-00001.bin"]
    expiring_urls(ctx, cut_at=100000, expired_twice=True)
    out = ctx.path("o")
    r = ctx.run("hf-fetch", "-j", "8", "-o", out, "-m", ctx.path("m.json"), TINY)
    expect_exit(r, 0)
    check_folder(ctx, out, TINY)
    assert r.err.count(EXPIRED) == 3, r.err
    assert "kept failing" not in r.err and "authentication" not in r.err, r.err
    got = [(q["status"], q["headers"].get("Range")) for q in cdn_requests(ctx, sf["sha256"])]
    assert got == [(200, None), (403, "bytes=100000-"), (206, "bytes=100000-")], got
    got = [q["status"] for q in cdn_requests(ctx, part["sha256"])]
    assert got == [403, 403, 200], got
    # each refusal sent it back to the Hub's resolve URL, without the token elsewhere
    resolves = [q for q in ctx.hub.requests()
                if q["listener"] == "hub" and q["path"].endswith("/weights/part-00001.bin")]
    assert len(resolves) == 3, resolves


def test_storage_url_always_refused_is_exit_6(ctx):
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "kind": "expire_url",
                       "seconds": 0})
    r = ctx.run("hf-fetch", "-o", ctx.path("o"), TINY, "model.safetensors", "config.json")
    expect_exit(r, 6, "kept refusing model.safetensors (HTTP 403) after 3 fresh URLs")
    assert r.err.count(EXPIRED) == 3, r.err
    assert not os.path.exists(ctx.path("o", "model.safetensors"))


def test_expired_storage_url_in_bundle(ctx):
    sf = files_of(ctx, TINY)["model.safetensors"]
    expiring_urls(ctx, cut_at=300000, expired_twice=False)
    out = ctx.path("b.tar")
    r = ctx.run("hf-bundle", "-o", out, "--repo", TINY, "-i", "*.bin", "-i", "*.safetensors")
    expect_exit(r, 0)
    assert r.err.count(EXPIRED) == 2, r.err
    got = [(q["status"], q["headers"].get("Range")) for q in cdn_requests(ctx, sf["sha256"])]
    assert got == [(200, None), (403, "bytes=300000-"), (206, "bytes=300000-")], got
    with tarfile.open(out) as t:
        names = {m.name.split("/", 1)[1]: m for m in t.getmembers() if m.isfile()}
        for p in ("model.safetensors", "weights/part-00001.bin"):
            data = t.extractfile(names[p]).read()
            assert hashlib.sha256(data).hexdigest() == files_of(ctx, TINY)[p]["sha256"], p
    expect_exit(ctx.run("hf-bundle", "--verify", out), 0)


def test_messages_leave_out_the_storage_query(ctx):
    """A cut on the storage host is retried: the retry's log line and the verbose request lines
    name the storage URL without its query (its pre-signed, short-lived credentials)."""
    ctx.hub.add_fault({"repo": TINY, "path": "model.safetensors", "where": "cdn",
                       "kind": "drop", "after": 1000, "times": 1})
    r = ctx.run("hf-fetch", "-v", "-o", ctx.path("o"), TINY, "model.safetensors")
    expect_exit(r, 0)
    assert "retrying in" in r.err and "from byte 1000" in r.err, r.err
    assert "?... (model.safetensors) failed" in r.err, r.err
    assert "X-Amz" not in r.err, r.err
