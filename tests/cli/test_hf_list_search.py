"""hf-list --search end to end: the Hub's repository listing, its filters, sorting and pages."""
import urllib.parse

from support import ALICE, expect_exit

COLUMNS = ["id", "pipeline_tag", "library", "license", "downloads", "likes", "lastModified",
           "private", "gated", "commit"]


def public_models(ctx):
    """Every public model of the fixture's data (not renamed, not disabled), by id: what an
    anonymous search for everything lists, whatever repositories other tests add."""
    return sorted(rid for (t, rid), repo in ctx.hub.store.repos.items()
                  if t == "model" and not repo.private and not repo.disabled and not repo.renamed_to)


def rows(r):
    lines = r.out.splitlines()
    assert lines[0] == "#" + "\t".join(COLUMNS), lines[:1]
    out = [dict(zip(COLUMNS, l.split("\t"))) for l in lines[1:]]
    for row in out:
        assert len(row) == len(COLUMNS), row
    return out


def ids(r):
    return [row["id"] for row in rows(r)]


def search_requests(ctx):
    return [urllib.parse.urlsplit(q["path"]) for q in ctx.hub.requests()
            if q["path"].split("?")[0] in ("/api/models", "/api/datasets", "/api/spaces")]


def test_every_field_of_a_model(ctx):
    r = ctx.run("hf-list", "--search", "tiny-model")
    expect_exit(r, 0)
    assert rows(r) == [{"id": "acme/tiny-model", "pipeline_tag": "text-classification",
                        "library": "transformers", "license": "apache-2.0", "downloads": "1234",
                        "likes": "5", "lastModified": "2024-03-01T08:15:00.000Z", "private": "false",
                        "gated": "false", "commit": ctx.hub.commit_of("acme/tiny-model")}], r.out
    assert "1 model found" in r.err
    # asked as huggingface_hub's list_models asks: the fields by expand, one request
    (u,) = search_requests(ctx)
    qs = urllib.parse.parse_qs(u.query)
    assert qs["search"] == ["tiny-model"] and qs["limit"] == ["50"], qs
    assert set(qs["expand"]) == {"pipeline_tag", "library_name", "downloads", "likes", "lastModified",
                                 "private", "gated", "sha", "tags"}, qs


def test_every_repository_by_default_order(ctx):
    r = ctx.run("hf-list", "--search", "")
    expect_exit(r, 0)
    models = public_models(ctx)
    assert "acme/tiny-model" in models and "acme/private-model" not in models, models
    assert ids(r) == models, r.out  # the private model is not listed without a token
    gated = {row["id"]: row["gated"] for row in rows(r)}
    assert gated["acme/gated-model"] == "manual" and gated["acme/gated-listing-model"] == "auto"


def test_private_repositories_with_a_token(ctx):
    r = ctx.run("hf-list", "--search", "private", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert [(x["id"], x["private"]) for x in rows(r)] == [("acme/private-model", "true")], r.out
    r = ctx.run("hf-list", "--search", "private")
    expect_exit(r, 0)
    assert ids(r) == [], r.out


def test_sort_orders(ctx):
    want = {
        "downloads": ["acme/tiny-model", "bert-org/bert-mini", "bert-org/bert-tiny-onnx"],
        "likes": ["bert-org/bert-tiny-onnx", "bert-org/bert-mini", "acme/tiny-model"],
        "trendingScore": ["bert-org/bert-tiny-onnx", "bert-org/bert-mini", "acme/tiny-model"],
        "lastModified": ["bert-org/bert-mini"],  # the newest; then newest first (below)
    }
    for key, first in want.items():
        ctx.hub.clear_log()
        r = ctx.run("hf-list", "--search", "", "--sort", key, "--limit", "3")
        expect_exit(r, 0)
        assert ids(r)[:len(first)] == first and len(ids(r)) == 3, (key, r.out)
        if key == "lastModified":
            dates = [row["lastModified"] for row in rows(r)]
            assert dates == sorted(dates, reverse=True), r.out
        qs = urllib.parse.parse_qs(search_requests(ctx)[0].query)
        assert qs["sort"] == [key] and qs["direction"] == ["-1"], qs


def test_author_and_filters(ctx):
    r = ctx.run("hf-list", "--search", "", "--author", "bert-org")
    expect_exit(r, 0)
    assert ids(r) == ["bert-org/bert-mini", "bert-org/bert-tiny-onnx"], r.out
    r = ctx.run("hf-list", "--search", "bert", "--filter", "onnx")
    expect_exit(r, 0)
    assert ids(r) == ["bert-org/bert-tiny-onnx"], r.out
    # every filter must hold
    r = ctx.run("hf-list", "--search", "", "--filter", "transformers", "--filter", "license:mit")
    expect_exit(r, 0)
    assert ids(r) == ["bert-org/bert-mini"], r.out
    ctx.hub.clear_log()
    r = ctx.run("hf-list", "--search", "", "--filter", "transformers", "--filter", "license:nope")
    expect_exit(r, 0)
    assert ids(r) == [], r.out
    qs = urllib.parse.parse_qs(search_requests(ctx)[0].query)
    assert qs["filter"] == ["transformers", "license:nope"], qs


def test_datasets_and_spaces(ctx):
    r = ctx.run("hf-list", "--search", "", "-t", "dataset")
    expect_exit(r, 0)
    (row,) = rows(r)
    assert row["id"] == "acme/tiny-dataset" and row["license"] == "cc-by-4.0" and row["downloads"] == "77"
    assert row["commit"] == ctx.hub.commit_of("acme/tiny-dataset", repo_type="dataset")
    r = ctx.run("hf-list", "--search", "", "-t", "space", "-f", "json")
    expect_exit(r, 0)
    doc = r.json()
    assert doc["query"]["repo_type"] == "space" and [x["id"] for x in doc["results"]] == ["acme/tiny-space"]
    assert doc["results"][0]["downloads"] is None  # spaces have no download count
    # only the fields each type has are asked (the Hub answers 400 to the others)
    qs = urllib.parse.parse_qs(search_requests(ctx)[-1].query)
    assert "downloads" not in qs["expand"] and "pipeline_tag" not in qs["expand"], qs


def test_pages_followed_up_to_the_limit(ctx):
    ctx.hub.page_size = 2
    r = ctx.run("hf-list", "--search", "", "--limit", "5")
    expect_exit(r, 0)
    models = public_models(ctx)
    assert len(models) > 6, models  # so that the pages below are full ones
    assert ids(r) == models[:5], r.out
    assert len(search_requests(ctx)) == 3, search_requests(ctx)  # 2 + 2 + 2, stopped at 5
    ctx.hub.clear_log()
    r = ctx.run("hf-list", "--search", "", "--limit", "1000")
    expect_exit(r, 0)
    assert ids(r) == models, r.out
    pages = (len(models) + 1) // 2  # every page of 2, the last without a Link
    assert len(search_requests(ctx)) == pages, search_requests(ctx)


def test_json_output(ctx):
    r = ctx.run("hf-list", "--search", "bert", "--sort", "likes", "--filter", "region:us",
                "--author", "bert-org", "--limit", "7", "-f", "json")
    expect_exit(r, 0)
    doc = r.json()
    assert doc["query"] == {"repo_type": "model", "search": "bert", "author": "bert-org",
                            "filter": ["region:us"], "sort": "likes", "limit": 7}, doc["query"]
    assert doc["endpoint"] == ctx.hub.endpoint
    assert [x["id"] for x in doc["results"]] == ["bert-org/bert-tiny-onnx", "bert-org/bert-mini"]
    assert list(doc["results"][0]) == ["id", "pipeline_tag", "library", "license", "downloads", "likes",
                                       "lastModified", "private", "gated", "commit"]
    assert doc["results"][0]["downloads"] == 50 and doc["results"][0]["private"] is False


def test_bad_usage(ctx):
    for args, what in ((["--limit", "0"], "--limit"), (["--limit", "1001"], "--limit"),
                       (["--limit", "x"], "--limit"), (["--sort", "stars"], "unknown --sort"),
                       (["--author", "a/b"], "invalid --author"), (["--filter", ""], "invalid --filter"),
                       (["-r", "main"], "do not apply"), (["acme/tiny-model"], "takes no REPO_ID"),
                       (["-f", "xml"], "unknown format")):
        r = ctx.run("hf-list", "--search", "x", *args)
        expect_exit(r, 2, what)
    assert ctx.hub.requests() == []


def test_unsafe_or_broken_answers(ctx):
    # a page that comes back forever: refused, not a hang
    ctx.hub.page_size = 2
    ctx.hub.add_fault({"repo": "model", "where": "search", "kind": "endless_cursor"})
    r = ctx.run("hf-list", "--search", "", "--limit", "1000")
    expect_exit(r, 5, "search pagination", "repeats a page")
    ctx.hub.clear_faults()
    ctx.hub.add_fault({"repo": "model", "where": "search", "kind": "bad_json"})
    r = ctx.run("hf-list", "--search", "")
    expect_exit(r, 5, "malformed search answer")
    ctx.hub.clear_faults()
    r = ctx.run("hf-list", "--search", "", env=ctx.env(HF_TOKEN="fixture-token-invalid"))
    expect_exit(r, 4, "token")


def test_token_stays_out(ctx):
    r = ctx.run("hf-list", "--search", "", "-v", env=ctx.env(HF_TOKEN=ALICE))
    expect_exit(r, 0)
    assert ALICE not in r.out and ALICE not in r.err
    assert all(q["headers"].get("Authorization") == "Bearer " + ALICE for q in ctx.hub.requests())
