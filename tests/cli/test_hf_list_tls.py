"""hf-list over HTTPS with a CA made at test time: verified, never unverified."""
import os

from support import expect_exit

HUB_OPTIONS = {"tls_dir": None}  # replaced below with a folder per run
TINY = "acme/tiny-model"


def _tls_dir():
    import tempfile
    return tempfile.mkdtemp(prefix="hf-tls-")


HUB_OPTIONS["tls_dir"] = _tls_dir()


def test_https_with_ca_file(ctx):
    assert ctx.hub.endpoint.startswith("https://127.0.0.1:")
    r = ctx.run("hf-list", TINY)
    expect_exit(r, 0)
    r = ctx.run("hf-list", TINY, env=ctx.env(SSL_CERT_FILE=None, CURL_CA_BUNDLE=ctx.hub.ca_file))
    expect_exit(r, 0)


def test_https_ca_dir(ctx):
    import shutil
    import subprocess
    d = ctx.path("certs")
    os.makedirs(d)
    shutil.copy(ctx.hub.ca_file, os.path.join(d, "fixture-ca.pem"))
    subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
    r = ctx.run("hf-list", TINY, env=ctx.env(SSL_CERT_FILE=None, SSL_CERT_DIR=d))
    expect_exit(r, 0)


def test_https_untrusted_ca_refused(ctx):
    other = ctx.path("other.pem")
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    ctx.path("k.pem"), "-out", other, "-subj", "/CN=other", "-days", "1"],
                   check=True, capture_output=True)
    r = ctx.run("hf-list", TINY, env=ctx.env(SSL_CERT_FILE=other))
    expect_exit(r, 6)
    assert ctx.hub.requests() == [], "no request got through"
