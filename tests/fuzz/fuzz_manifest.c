/* The manifest (hf-fetch --lock, hf-bundle): hf_manifest_parse. A manifest it accepts must
 * hold what the rest relies on (valid id and commit, safe sorted unique paths, hashes), and
 * writing it back (hf_manifest_json) must give a manifest that reads the same. */
#include "fuzz.h"
#include "manifest.h"
#include "pathsafe.h"
#include "repo.h"

static void check(const hf_manifest *m) {
    FUZZ_CHECK(m->repo_id && hf_repo_id_check(m->repo_id, NULL) == HF_OK);
    FUZZ_CHECK(hf_is_commit(m->commit));
    FUZZ_CHECK(!m->revision || hf_revision_check(m->revision, NULL) == HF_OK);
    for (size_t i = 0; i < m->files.n; i++) {
        const hf_entry *e = &m->files.v[i];
        FUZZ_CHECK(hf_path_is_safe(e->path, NULL));
        FUZZ_CHECK(e->size >= 0 && !e->is_dir);
        FUZZ_CHECK(hf_is_hex(e->sha256, 64) && hf_is_hex(e->git_oid, 40));
        if (i > 0)
            FUZZ_CHECK(strcmp(m->files.v[i - 1].path, e->path) < 0);
        FUZZ_CHECK(hf_entries_find(&m->files, e->path) == e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hf_manifest m;
    hf_error err = {0};
    hf_code rc = hf_manifest_parse((const char *)data, size, &m, &err);
    fuzz_check_error(&err, rc);
    if (rc != HF_OK) {
        FUZZ_CHECK(rc == HF_EUSAGE || rc == HF_EOTHER);
        FUZZ_CHECK(m.repo_id == NULL && m.files.n == 0);
        return 0;
    }
    check(&m);
    json_t *o = hf_manifest_json(&m);
    FUZZ_CHECK(o != NULL);
    char *text = json_dumps(o, JSON_INDENT(2));
    FUZZ_CHECK(text != NULL);
    json_decref(o);
    hf_manifest again;
    hf_error err2 = {0};
    hf_code rc2 = hf_manifest_parse(text, strlen(text), &again, &err2);
    if (rc2 != HF_OK)
        fprintf(stderr, "written manifest does not read back: %s\n", err2.msg);
    FUZZ_CHECK(rc2 == HF_OK);
    check(&again);
    FUZZ_CHECK(strcmp(m.repo_id, again.repo_id) == 0 && m.repo_type == again.repo_type);
    FUZZ_CHECK(strcmp(m.commit, again.commit) == 0);
    FUZZ_CHECK(m.files.n == again.files.n);
    for (size_t i = 0; i < m.files.n; i++) {
        const hf_entry *a = &m.files.v[i], *b = &again.files.v[i];
        FUZZ_CHECK(strcmp(a->path, b->path) == 0 && a->size == b->size && a->lfs == b->lfs);
        FUZZ_CHECK(strcmp(a->sha256, b->sha256) == 0 && strcmp(a->git_oid, b->git_oid) == 0);
    }
    hf_manifest_free(&again);
    free(text);
    hf_manifest_free(&m);
    return 0;
}
