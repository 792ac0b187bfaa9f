/* NDJSON commit bodies, each line written by jansson. */
#include "commit_body.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *hf_base64(const void *data, size_t len) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    char *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = abc[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
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

hf_code hf_commit_file(hf_buf *b, const char *path, const void *data, size_t len, hf_error *err) {
    char *b64 = hf_base64(data, len);
    json_t *v =
        b64 ? json_pack("{s:s, s:s, s:s}", "path", path, "content", b64, "encoding", "base64")
            : NULL;
    free(b64);
    return line(b, "file", v, err);
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
