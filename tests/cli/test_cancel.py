"""Cancellation (issue 11): SIGTERM or SIGINT, as Galaxy sends when it cancels a job, leaves
no temporary archive, no temporary manifest and nothing half-written at a final path, and the
run ends with 128+signal (143, 130). hf-fetch keeps its .incomplete files on purpose: a rerun
resumes from them. The fixture Hub stalls mid-body so that the signal lands mid-transfer; the
folder-mode bundle is stopped (SIGSTOP) as soon as its temporary archive exists, so that the
signal lands mid-write whatever the machine's speed."""
import glob
import os
import signal
import subprocess
import time

from support import BIN_DIR, expect_exit

TINY = "acme/tiny-model"
BIG = "acme/big-model"


def start(ctx, tool, *args):
    return subprocess.Popen([os.path.join(BIN_DIR, tool), *args], env=ctx.env(), cwd=ctx.tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until(what, cond, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


def cancel(p, sig, timeout=30):
    """Sends sig, waits; returns (exit code, stdout, stderr)."""
    p.send_signal(sig)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def temporaries(root):
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root)
                  for n in names if ".tmp-" in n)


def incomplete_size(root):
    """The size of the first .incomplete file below root (hidden folders too), or -1."""
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".incomplete"):
                return os.path.getsize(os.path.join(d, n))
    return -1


def stall_big(ctx, after=4 << 20):
    ctx.hub.add_fault({"repo": BIG, "path": "big.bin", "where": "cdn", "kind": "stall",
                       "after": after, "seconds": 60})


def test_hf_bundle_repo_sigterm_leaves_no_archive(ctx):
    for fmt, sig in (("tar", signal.SIGTERM), ("tar.zst", signal.SIGINT)):
        ctx.hub.clear_faults()
        stall_big(ctx)
        out = ctx.path("big." + fmt)
        p = start(ctx, "hf-bundle", "-o", out, "--threads", "2", "--repo", BIG)
        try:
            wait_until("the temporary archive", lambda: glob.glob(out + ".tmp-*"))
            time.sleep(1)  # into the download, which stalls at 4 MiB for a minute
        except AssertionError:
            p.kill()
            raise
        code, _, err = cancel(p, sig)
        assert code == 128 + sig, (code, err)
        assert not os.path.exists(out)
        assert temporaries(ctx.tmp) == [], temporaries(ctx.tmp)
        assert "error:" not in err, err


def test_hf_bundle_folder_sigterm_mid_write(ctx):
    folder = ctx.path("big")
    expect_exit(ctx.run("hf-fetch", "-q", "-o", folder, BIG), 0)
    for fmt, sig in (("tgz", signal.SIGTERM), ("zip", signal.SIGINT)):
        out = ctx.path("bundle." + fmt)
        p = start(ctx, "hf-bundle", "-o", out, "--level", "9", folder)
        try:
            wait_until("the temporary archive", lambda: glob.glob(out + ".tmp-*"), timeout=120)
        finally:
            p.send_signal(signal.SIGSTOP)
        assert glob.glob(out + ".tmp-*") and not os.path.exists(out), "caught mid-write"
        p.send_signal(sig)
        p.send_signal(signal.SIGCONT)
        out_, err = p.communicate(timeout=30)
        assert p.returncode == 128 + sig, (p.returncode, err)
        assert not os.path.exists(out)
        assert temporaries(ctx.tmp) == [], temporaries(ctx.tmp)


def test_hf_fetch_sigint_keeps_only_incomplete(ctx):
    for mode, sig in (("-o", signal.SIGINT), ("--cache-dir", signal.SIGTERM)):
        ctx.hub.clear_faults()
        stall_big(ctx)
        target = ctx.path("t" + mode)
        manifest = ctx.path("m" + mode + ".json")
        p = start(ctx, "hf-fetch", mode, target, "-m", manifest, BIG)
        try:
            wait_until("4 MiB of big.bin", lambda: incomplete_size(target) >= 4 << 20)
        except AssertionError:
            p.kill()
            raise
        code, out, err = cancel(p, sig)
        assert code == 128 + sig, (code, err)
        assert out == "", "no folder named: the run did not finish"
        assert not os.path.exists(manifest)
        assert temporaries(ctx.tmp) == [], temporaries(ctx.tmp)
        finals = [f for f in glob.glob(os.path.join(target, "**", "big.bin"), recursive=True)]
        assert finals == [], finals
        # what was kept resumes
        ctx.hub.clear_faults()
        ctx.hub.clear_log()
        r = ctx.run("hf-fetch", mode, target, "-m", manifest, BIG)
        expect_exit(r, 0, "resuming from byte")
        assert os.path.exists(manifest)


def test_hf_list_sigterm_mid_listing(ctx):
    for sig in (signal.SIGTERM, signal.SIGINT):
        ctx.hub.clear_faults()
        ctx.hub.clear_log()  # the wait below is for this run's tree request, not the last one's
        # the tree request waits half a minute before its retry (Retry-After)
        ctx.hub.add_fault({"repo": TINY, "where": "tree", "kind": "status", "status": 503,
                           "retry_after": 30})
        p = start(ctx, "hf-list", "-f", "json", TINY)
        wait_until("the tree request", lambda: [
            q for q in ctx.hub.requests() if "/tree/" in q["path"]])
        time.sleep(0.2)
        code, out, err = cancel(p, sig)
        assert code == 128 + sig, (code, err)
        assert out == "", "nothing half-listed"
