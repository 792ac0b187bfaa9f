"""A listing no tree can hold (issue 11): a file 'a' with 'a/b' below it, or a file and a
folder of the same path, at any depth. Every binary refuses it with exit 5 before it writes
anything (the check is hf_api_tree's, shared by all three). The fixture repository
acme/clashing-model lists such entries on its branches main, folder-on-file and deep; its
branch near holds names that only look alike ('n', 'n-1', 'n.txt', 'n0/f') and is fine."""
import os

from support import expect_exit

CLASH = "acme/clashing-model"
CASES = [("main", "'a' is a file and a folder"),
         ("folder-on-file", "listed 'deep/er/f.txt' twice"),
         ("deep", "'x/y' is a file and a folder")]


def file_requests(ctx):
    return [q for q in ctx.hub.requests() if "/resolve/" in q["path"] or q["listener"] == "cdn"]


def test_hf_list_refuses(ctx):
    for rev, why in CASES:
        for fmt in ("tsv", "json"):
            r = ctx.run("hf-list", "-r", rev, "-f", fmt, CLASH)
            expect_exit(r, 5, why)
            assert r.out == "", "nothing listed when the listing is refused"


def test_hf_list_refuses_even_when_filtered_away(ctx):
    # the clash is in the listing, whatever the filters leave of it
    r = ctx.run("hf-list", "-r", "deep", "-i", "*.txt", CLASH)
    expect_exit(r, 5, "'x/y' is a file and a folder")
    r = ctx.run("hf-list", "-r", "deep", "-p", "x", CLASH)
    expect_exit(r, 5, "'x/y' is a file and a folder")


def test_hf_fetch_writes_nothing(ctx):
    for rev, why in CASES:
        for mode in ("-o", "--cache-dir"):
            ctx.hub.clear_log()
            out = ctx.path("out-" + rev + mode)
            manifest = ctx.path("m-" + rev + mode + ".json")
            r = ctx.run("hf-fetch", mode, out, "-r", rev, "-m", manifest, CLASH)
            expect_exit(r, 5, why)
            assert not os.path.exists(out), os.listdir(out)
            assert not os.path.exists(manifest)
            assert file_requests(ctx) == []


def test_hf_bundle_repo_writes_nothing(ctx):
    for rev, why in CASES:
        ctx.hub.clear_log()
        out = ctx.path(rev + ".tar")
        r = ctx.run("hf-bundle", "-o", out, "--repo", CLASH, "-r", rev)
        expect_exit(r, 5, why)
        assert os.listdir(ctx.tmp) == [], os.listdir(ctx.tmp)
        assert file_requests(ctx) == []


def test_names_that_only_look_alike_are_fine(ctx):
    r = ctx.run("hf-list", "-r", "near", CLASH)
    expect_exit(r, 0)
    rows = [l.split("\t")[0] for l in r.out.splitlines()[2:]]
    assert rows == ["n", "n-1", "n.txt", "n0/f"], rows
    r = ctx.run("hf-fetch", "-o", ctx.path("near"), "-r", "near", CLASH)
    expect_exit(r, 0)
    assert open(ctx.path("near", "n0", "f")).read() == "f\n"
    r = ctx.run("hf-bundle", "-o", ctx.path("near.tar"), "--repo", CLASH, "-r", "near")
    expect_exit(r, 0)
