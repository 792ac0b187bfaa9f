/* The search answer (one page of GET /api/{type}s?search=...): hf_search_parse, then the TSV
 * and JSON output. Every accepted repository must hold what the output relies on: a valid
 * id, no control character in any string (the TSV stays one line per repository), counts
 * >= 0 or unknown, a 40-hex commit or none; ids unique; never more than asked. */
#include "fuzz.h"
#include "repo.h"
#include "search.h"

static void check_string(const char *s) {
    for (; s && *s; s++)
        FUZZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t max = size ? (size_t)(data[0] % 8) + 1 : 1;
    hf_search_hits h = {0};
    hf_error err = {0};
    hf_code rc = hf_search_parse((const char *)data, size, max, &h, &err);
    fuzz_check_error(&err, rc);
    FUZZ_CHECK(rc == HF_OK || rc == HF_EINTEGRITY || rc == HF_EOTHER);
    FUZZ_CHECK(h.n <= max);
    for (size_t i = 0; i < h.n; i++) {
        const hf_search_hit *e = &h.v[i];
        hf_error sub = {0};
        FUZZ_CHECK(e->id && hf_repo_id_check(e->id, &sub) == HF_OK);
        check_string(e->pipeline_tag);
        check_string(e->library);
        check_string(e->license);
        check_string(e->last_modified);
        check_string(e->gated);
        FUZZ_CHECK(!e->sha || hf_is_commit(e->sha));
        FUZZ_CHECK(e->downloads >= -1 && e->likes >= -1);
        FUZZ_CHECK(e->is_private >= -1 && e->is_private <= 1);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(h.v[j].id, e->id) != 0);
    }
    /* the TSV: a header and exactly one line of ten fields per repository */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f && hf_search_write_tsv(f, &h) == 0);
    fclose(f);
    size_t lines = 0, tabs = 0;
    for (size_t i = 0; i < len; i++) {
        lines += buf[i] == '\n';
        tabs += buf[i] == '\t';
    }
    FUZZ_CHECK(lines == h.n + 1 && tabs == 9 * (h.n + 1));
    free(buf);
    hf_search_query q = {.type = HF_MODEL, .limit = max};
    json_t *j = hf_search_json(&q, "http://h", &h);
    FUZZ_CHECK(j && json_array_size(json_object_get(j, "results")) == h.n);
    json_decref(j);
    hf_search_hits_free(&h);
    return 0;
}
