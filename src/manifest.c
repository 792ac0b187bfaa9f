/* Manifest reading (strict) and writing (stable key order). */
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "listing.h"
#include "pathsafe.h"
#include "url.h"

#define HF_MAX_MANIFEST (256u << 20)

void hf_manifest_free(hf_manifest *m) {
    free(m->repo_id);
    free(m->revision);
    free(m->commit_date);
    free(m->endpoint);
    free(m->tool_name);
    free(m->tool_version);
    free(m->fetched_at);
    hf_entries_free(&m->files);
    memset(m, 0, sizeof *m);
}

void hf_utc_now(char out[21]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static hf_code bad(hf_error *err, const char *what) {
    return hf_fail(err, HF_EUSAGE, "invalid manifest: %s", what);
}

static char *opt_string(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static hf_code parse_file(json_t *f, size_t i, hf_entry *e, hf_error *err) {
    char what[160];
    memset(e, 0, sizeof *e);
    json_t *path = json_object_get(f, "path"), *size = json_object_get(f, "size"),
           *lfs = json_object_get(f, "lfs"), *sha = json_object_get(f, "sha256"),
           *oid = json_object_get(f, "git_oid");
    const char *why = "not an object";
    if (json_is_object(f)) {
        why = NULL;
        if (!json_is_string(path) || strlen(json_string_value(path)) != json_string_length(path))
            why = "path is not a string";
        else if (!hf_path_is_safe(json_string_value(path), &why))
            ;
        else if (!json_is_integer(size) || json_integer_value(size) < 0)
            why = "size is not a non-negative integer";
        else if (!json_is_boolean(lfs))
            why = "lfs is not true or false";
        else if (!json_is_string(sha) || !hf_is_hex(json_string_value(sha), 64))
            why = "sha256 is not 64 hex digits";
        else if (!json_is_string(oid) || !hf_is_hex(json_string_value(oid), 40))
            why = "git_oid is not 40 hex digits";
    }
    if (why) {
        snprintf(what, sizeof what, "files[%zu]: %s", i, why);
        return bad(err, what);
    }
    e->path = (char *)json_string_value(path);
    e->size = json_integer_value(size);
    e->lfs = json_is_true(lfs);
    memcpy(e->sha256, json_string_value(sha), 65);
    memcpy(e->git_oid, json_string_value(oid), 41);
    return HF_OK;
}

hf_code hf_manifest_parse(const char *json, size_t len, hf_manifest *m, hf_error *err) {
    memset(m, 0, sizeof *m);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return hf_fail(err, HF_EUSAGE, "invalid manifest: not JSON (%s, line %d)", jerr.text,
                       jerr.line);
    hf_code rc = HF_OK;
    json_t *id = json_object_get(root, "repo_id"), *type = json_object_get(root, "repo_type"),
           *commit = json_object_get(root, "commit"), *files = json_object_get(root, "files");
    if (!json_is_object(root))
        rc = bad(err, "not a JSON object");
    else if (!json_is_string(id) || hf_repo_id_check(json_string_value(id), NULL) != HF_OK)
        rc = bad(err, "repo_id is missing or not a valid repository id");
    else if (!json_is_string(type) || !hf_repo_type_parse(json_string_value(type), &m->repo_type))
        rc = bad(err, "repo_type is not model, dataset or space");
    else if (!json_is_string(commit) || !hf_is_commit(json_string_value(commit)))
        rc = bad(err, "commit is not 40 hex digits");
    else if (!json_is_array(files))
        rc = bad(err, "files is not an array");
    if (rc == HF_OK) {
        m->repo_id = strdup(json_string_value(id));
        memcpy(m->commit, json_string_value(commit), 41);
        m->revision = opt_string(root, "revision");
        m->commit_date = opt_string(root, "commit_date");
        m->endpoint = opt_string(root, "endpoint");
        m->fetched_at = opt_string(root, "fetched_at");
        json_t *tool = json_object_get(root, "tool");
        m->tool_name = opt_string(tool, "name");
        m->tool_version = opt_string(tool, "version");
        if (m->revision && hf_revision_check(m->revision, NULL) != HF_OK)
            rc = bad(err, "revision is not a valid revision");
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f) {
            if (rc != HF_OK)
                break;
            hf_entry e;
            if ((rc = parse_file(f, i, &e, err)) == HF_OK && !hf_entries_push(&m->files, &e))
                rc = hf_fail(err, HF_EOTHER, "out of memory");
        }
    }
    if (rc == HF_OK && hf_entries_sort(&m->files, err) != HF_OK) {
        char why[sizeof err->msg]; /* a path listed twice, or as a file and a folder */
        snprintf(why, sizeof why, "%s", err->msg);
        rc = bad(err, why);
    }
    json_decref(root);
    if (rc != HF_OK)
        hf_manifest_free(m);
    return rc;
}

hf_code hf_manifest_read(const char *path, hf_manifest *m, hf_error *err) {
    char *data;
    size_t len;
    hf_code rc = hf_read_file(path, HF_MAX_MANIFEST, &data, &len, err);
    if (rc == HF_ENOTFOUND)
        return hf_fail(err, HF_EUSAGE, "manifest %s does not exist", path);
    if (rc != HF_OK)
        return rc;
    rc = hf_manifest_parse(data, len, m, err);
    free(data);
    if (rc != HF_OK && err) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        hf_fail(err, rc, "%.300s: %.700s", path, msg);
    }
    return rc;
}

json_t *hf_manifest_json(const hf_manifest *m) {
    hf_repo repo = {m->repo_type, m->repo_id};
    json_t *files = json_array();
    for (size_t i = 0; files && i < m->files.n; i++) {
        const hf_entry *e = &m->files.v[i];
        char *url = m->endpoint ? hf_url_resolve(m->endpoint, &repo, m->commit, e->path) : NULL;
        json_t *o = json_pack("{s:s, s:I, s:b, s:s, s:s, s:o}", "path", e->path, "size",
                              (json_int_t)e->size, "lfs", e->lfs, "sha256", e->sha256, "git_oid",
                              e->git_oid, "url", url ? json_string(url) : json_null());
        free(url);
        if (json_array_append_new(files, o) != 0) {
            json_decref(files);
            return NULL;
        }
    }
    if (!files)
        return NULL;
    return json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:o, s:{s:s?, s:s?}, s:s?}", "repo_id",
                     m->repo_id, "repo_type", hf_repo_type_name(m->repo_type), "revision",
                     m->revision, "commit", m->commit, "commit_date", m->commit_date, "endpoint",
                     m->endpoint, "files", files, "tool", "name", m->tool_name, "version",
                     m->tool_version, "fetched_at", m->fetched_at);
}

char *hf_manifest_text(const hf_manifest *m, size_t *len) {
    json_t *o = hf_manifest_json(m);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *full = realloc(text, n + 2);
    if (!full) {
        free(text);
        return NULL;
    }
    full[n] = '\n';
    full[n + 1] = '\0';
    *len = n + 1;
    return full;
}

hf_code hf_manifest_write(const hf_manifest *m, const char *path, hf_error *err) {
    size_t n = 0;
    char *text = hf_manifest_text(m, &n);
    if (!text)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = HF_OK;
    if (strcmp(path, "-") == 0) {
        if (fwrite(text, 1, n, stdout) != n || fflush(stdout))
            rc = hf_fail(err, HF_EIO, "cannot write the manifest to standard output");
    } else {
        rc = hf_write_atomic(path, text, n, err);
    }
    free(text);
    return rc;
}
