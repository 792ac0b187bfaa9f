/* RO-Crate 1.1 metadata for a bundle, built with jansson. */
#include "bundle_rocrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "bundle_card.h"
#include "url.h"

#define HUB "https://huggingface.co"
#define MAX_LICENSES 16

char *hf_rocrate_repo_url(const hf_manifest *m) {
    hf_buf b = {0};
    hf_repo repo = {m->repo_type, m->repo_id};
    hf_buf_addf(&b, "%s/%s%s/tree/%s", m->endpoint && *m->endpoint ? m->endpoint : HUB,
                hf_repo_type_url_prefix(repo.type), repo.id, m->commit);
    return hf_buf_take(&b);
}

static char *path_id(const char *path) {
    hf_buf b = {0};
    hf_url_encode(&b, path, true);
    return hf_buf_take(&b);
}

/* Appends v to a (stealing it); false when either is NULL or out of memory. */
static bool push(json_t *a, json_t *v) {
    return a && v && json_array_append_new(a, v) == 0;
}

static json_t *file_entity(const char *path, long long size, const char *sha256,
                           const char *format) {
    char *id = path_id(path);
    char size_s[24];
    snprintf(size_s, sizeof size_s, "%lld", size);
    json_t *o = id ? json_pack("{s:s, s:s, s:s, s:s, s:s}", "@id", id, "@type", "File", "name",
                               path, "contentSize", size_s, "sha256", sha256)
                   : NULL;
    if (o && format)
        json_object_set_new(o, "encodingFormat", json_string(format));
    free(id);
    return o;
}

static bool is_url(const char *s) {
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Adds the license entities to graph and returns the root's license value (or NULL). */
static json_t *licenses(const json_t *card, json_t *graph) {
    const char *ls[MAX_LICENSES];
    size_t n = card ? hf_card_licenses(card, ls, MAX_LICENSES) : 0;
    if (n == 0)
        return NULL;
    json_t *link = json_object_get(card, "license_link");
    json_t *lname = json_object_get(card, "license_name");
    json_t *refs = json_array();
    for (size_t i = 0; refs && i < n; i++) {
        hf_buf id = {0};
        const char *name = ls[i];
        if (strcmp(ls[i], "other") == 0 && json_is_string(link) &&
            is_url(json_string_value(link))) {
            hf_buf_adds(&id, json_string_value(link));
            if (json_is_string(lname))
                name = json_string_value(lname);
        } else if (is_url(ls[i])) {
            hf_buf_adds(&id, ls[i]);
        } else {
            hf_buf_adds(&id, "#license-");
            hf_url_encode(&id, ls[i], false);
        }
        char *s = hf_buf_take(&id);
        bool ok = s && push(refs, json_pack("{s:s}", "@id", s)) &&
                  push(graph, json_pack("{s:s, s:s, s:s, s:s}", "@id", s, "@type", "CreativeWork",
                                        "name", name, "identifier", ls[i]));
        free(s);
        if (!ok) {
            json_decref(refs);
            return NULL;
        }
    }
    if (json_array_size(refs) == 1) {
        json_t *one = json_incref(json_array_get(refs, 0));
        json_decref(refs);
        return one;
    }
    return refs;
}

char *hf_rocrate_build(const hf_rocrate_in *in) {
    const hf_manifest *m = in->m;
    json_t *graph = json_array();
    json_t *parts = json_array();
    char *based_on = hf_rocrate_repo_url(m);
    char *text = NULL;
    json_t *root = NULL, *doc = NULL, *contextual = NULL;
    if (!graph || !parts || !based_on)
        goto out;
    if (!push(graph, json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "@id", HF_ROCRATE_NAME, "@type",
                               "CreativeWork", "conformsTo", "@id", "https://w3id.org/ro/crate/1.1",
                               "about", "@id", "./")))
        goto out;

    const char *name = in->card ? hf_card_name(in->card) : NULL;
    hf_buf desc = {0};
    hf_buf_addf(&desc,
                "The files of the Hugging Face %s %s at commit %s, verified against "
                "the manifest %s.",
                hf_repo_type_name(m->repo_type), m->repo_id, m->commit, in->manifest_name);
    char *description = hf_buf_take(&desc);
    root = json_pack("{s:s, s:s, s:s, s:s?}", "@id", "./", "@type", "Dataset", "name",
                     name ? name : m->repo_id, "description", description);
    free(description);
    if (!root)
        goto out;
    if (in->date >= 0) {
        time_t t = (time_t)in->date;
        struct tm tm;
        char date[32];
        if (gmtime_r(&t, &tm) && strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm))
            json_object_set_new(root, "datePublished", json_string(date));
    }
    contextual = json_array(); /* the licenses, after the files */
    json_t *lic = contextual ? licenses(in->card, contextual) : NULL;
    if (lic)
        json_object_set_new(root, "license", lic);
    json_object_set_new(root, "isBasedOn", json_pack("{s:s}", "@id", based_on));
    json_object_set_new(root, "identifier", json_string(m->repo_id));
    json_object_set_new(root, "version", json_string(m->commit));
    json_object_set(root, "hasPart", parts);
    if (!push(graph, json_incref(root)))
        goto out;

    char *mid = path_id(in->manifest_name);
    bool ok = mid && push(parts, json_pack("{s:s}", "@id", mid)) &&
              push(graph, file_entity(in->manifest_name, in->manifest_size, in->manifest_sha256,
                                      "application/json"));
    free(mid);
    if (!ok)
        goto out;
    for (size_t i = 0; i < m->files.n; i++) {
        const hf_entry *e = &m->files.v[i];
        char *id = path_id(e->path);
        ok = id && push(parts, json_pack("{s:s}", "@id", id)) &&
             push(graph, file_entity(e->path, e->size, e->sha256, NULL));
        free(id);
        if (!ok)
            goto out;
    }
    size_t k;
    json_t *v;
    json_array_foreach(contextual, k, v) {
        if (json_array_append(graph, v) != 0)
            goto out;
    }
    doc = json_pack("{s:s, s:O}", "@context", "https://w3id.org/ro/crate/1.1/context", "@graph",
                    graph);
    if (!doc)
        goto out;
    text = json_dumps(doc, JSON_INDENT(2));
    if (text) {
        size_t n = strlen(text);
        char *full = realloc(text, n + 2);
        if (full) {
            full[n] = '\n';
            full[n + 1] = '\0';
            text = full;
        } else {
            free(text);
            text = NULL;
        }
    }
out:
    json_decref(contextual);
    json_decref(doc);
    json_decref(root);
    json_decref(parts);
    json_decref(graph);
    free(based_on);
    return text;
}
