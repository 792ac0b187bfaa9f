/* NDJSON commit bodies, each line written by jansson. */
#include "commit_body.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char ABC[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of len bytes into out ((len + 2) / 3 * 4 bytes, no terminator). */
static void encode(const unsigned char *p, size_t len, char *o) {
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = ABC[v >> 18];
        *o++ = ABC[(v >> 12) & 63];
        *o++ = ABC[(v >> 6) & 63];
        *o++ = ABC[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = ABC[v >> 18];
        *o++ = ABC[(v >> 12) & 63];
        *o++ = i + 1 < len ? ABC[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
}

char *hf_base64(const void *data, size_t len) {
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    encode(data, len, out);
    out[(len + 2) / 3 * 4] = '\0';
    return out;
}

/* Appends {"key": key, "value": value} and a newline; takes value. */
static hf_code line(hf_buf *b, const char *key, json_t *value, hf_error *err) {
    json_t *o = value ? json_pack("{s:s, s:o}", "key", key, "value", value) : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    bool ok = s && hf_buf_adds(b, s) && hf_buf_adds(b, "\n");
    free(s);
    return ok ? HF_OK : hf_fail(err, HF_EOTHER, "cannot write the commit's %s line", key);
}

hf_code hf_commit_header(hf_buf *b, const char *summary, const char *description,
                         const char *parent, hf_error *err) {
    json_t *v =
        json_pack("{s:s, s:s}", "summary", summary, "description", description ? description : "");
    if (v && parent && json_object_set_new(v, "parentCommit", json_string(parent)) != 0) {
        json_decref(v);
        v = NULL;
    }
    return line(b, "header", v, err);
}

hf_code hf_commit_file_begin(hf_buf *b, const char *path, hf_error *err) {
    /* the line as jansson writes it, with the content left open: {"key":"file","value":
     * {"path":PATH,"content":"... (keys in this order, as hf_commit_lfs's are) */
    json_t *p = json_string(path);
    char *quoted = p ? json_dumps(p, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(p);
    bool ok = quoted && hf_buf_adds(b, "{\"key\":\"file\",\"value\":{\"path\":") &&
              hf_buf_adds(b, quoted) && hf_buf_adds(b, ",\"content\":\"");
    free(quoted);
    return ok ? HF_OK : hf_fail(err, HF_EOTHER, "cannot write the commit's file line");
}

hf_code hf_commit_file_chunk(hf_buf *b, const void *data, size_t len, hf_error *err) {
    size_t n = (len + 2) / 3 * 4;
    if (!hf_buf_reserve(b, n))
        return hf_fail(err, HF_EOTHER, "out of memory");
    encode(data, len, b->data + b->len);
    b->len += n;
    b->data[b->len] = '\0';
    return HF_OK;
}

hf_code hf_commit_file_end(hf_buf *b, hf_error *err) {
    return hf_buf_adds(b, "\",\"encoding\":\"base64\"}}\n")
               ? HF_OK
               : hf_fail(err, HF_EOTHER, "cannot write the commit's file line");
}

hf_code hf_commit_file(hf_buf *b, const char *path, const void *data, size_t len, hf_error *err) {
    hf_code rc = hf_commit_file_begin(b, path, err);
    if (rc == HF_OK)
        rc = hf_commit_file_chunk(b, data, len, err);
    return rc == HF_OK ? hf_commit_file_end(b, err) : rc;
}

hf_code hf_commit_lfs(hf_buf *b, const char *path, const char *sha256, long long size,
                      hf_error *err) {
    return line(b, "lfsFile",
                json_pack("{s:s, s:s, s:s, s:I}", "path", path, "algo", "sha256", "oid", sha256,
                          "size", (json_int_t)size),
                err);
}

hf_code hf_commit_delete(hf_buf *b, const char *path, hf_error *err) {
    return line(b, "deletedFile", json_pack("{s:s}", "path", path), err);
}
