"""hf-bundle --verify and --list of archives with many folders (issue 11): a good one is
verified as matching, a hostile one (its manifest lists every file, the archive holds only
their folders) is refused with every difference counted. Their speed is measured by
`make bench-bundle` (case verify-folders, 60,000 folders), not here."""
from archives import many_folders
from support import expect_exit

N = 4000


def test_good_archive_of_many_folders_verified(ctx):
    good = ctx.path("good.tar.gz")
    many_folders(good, N)
    r = ctx.run("hf-bundle", "--verify", good)
    expect_exit(r, 0, "%d files of acme/many-folders" % N, "match the manifest")
    assert r.out.count(": OK\n") == N, r.out[-300:]
    r = ctx.run("hf-bundle", "--list", good)
    expect_exit(r, 0)
    assert "many-folders/d%06d/f" % (N - 1) in r.out


def test_hostile_archive_of_folders_only_refused(ctx):
    bad = ctx.path("bad.tar.gz")
    many_folders(bad, N, hostile=True)
    r = ctx.run("hf-bundle", "--verify", bad)
    expect_exit(r, 5, "differs from its manifest in %d places" % N,
                "many-folders/d000000/f: missing")
    assert "an extra folder" not in r.out + r.err, "every folder holds a listed file"
