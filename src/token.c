/* Token lookup. */
#include "token.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trims surrounding white space in place; refuses anything else outside printable ASCII. */
static hf_code clean(char *tok, const char *source, hf_error *err) {
    size_t n = strlen(tok);
    while (n > 0 &&
           (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        tok[--n] = '\0';
    size_t start = strspn(tok, " \t\r\n");
    memmove(tok, tok + start, n - start + 1);
    for (char *p = tok; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return hf_fail(err, HF_EUSAGE,
                           "the token from %s contains white space or non-ASCII characters",
                           source);
    return HF_OK;
}

static hf_code read_token_file(const char *path, bool must_exist, char **out, hf_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return HF_OK;
        return hf_fail(err, must_exist && errno == ENOENT ? HF_EUSAGE : HF_EIO,
                       "cannot read token file %s: %s", path, strerror(errno));
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    bool more = !feof(f) && fgetc(f) != EOF;
    fclose(f);
    if (more)
        return hf_fail(err, HF_EUSAGE, "token file %s is too large to be a token", path);
    buf[n] = '\0';
    if (memchr(buf, '\0', n))
        return hf_fail(err, HF_EUSAGE, "token file %s is not text", path);
    hf_code rc = clean(buf, path, err);
    if (rc == HF_OK && buf[0]) {
        *out = strdup(buf);
        if (!*out)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    explicit_bzero(buf, sizeof buf);
    return rc;
}

static hf_code from_env(const char *name, char **out, hf_error *err) {
    const char *v = getenv(name);
    if (!v || !*v)
        return HF_OK;
    char *copy = strdup(v);
    if (!copy)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = clean(copy, name, err);
    if (rc != HF_OK || !copy[0]) {
        free(copy);
        return rc;
    }
    *out = copy;
    return HF_OK;
}

hf_code hf_token_load(const char *token_file, char **out, hf_error *err) {
    *out = NULL;
    if (token_file)
        return read_token_file(token_file, true, out, err);
    hf_code rc = from_env("HF_TOKEN", out, err);
    if (rc != HF_OK || *out)
        return rc;
    rc = from_env("HUGGING_FACE_HUB_TOKEN", out, err);
    if (rc != HF_OK || *out)
        return rc;
    const char *path = getenv("HF_TOKEN_PATH");
    if (path && *path)
        return read_token_file(path, false, out, err);
    char fallback[4096];
    const char *home = getenv("HF_HOME");
    if (home && *home)
        snprintf(fallback, sizeof fallback, "%s/token", home);
    else if (getenv("HOME"))
        snprintf(fallback, sizeof fallback, "%s/.cache/huggingface/token", getenv("HOME"));
    else
        return HF_OK;
    return read_token_file(fallback, false, out, err);
}
