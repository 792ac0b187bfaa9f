/* The repository info answer (GET /api/{type}s/{id}/revision/{rev}): the real
 * hf_api_repo_info of src/api.c over the fake HTTP layer (fake_http.c), since api.c has no
 * parse function of its own. Input: the revision asked for, a line; the X-Repo-Commit header
 * (empty: none), a line; then the JSON body. */
#include "api.h"
#include "fake_http.h"
#include "fuzz.h"
#include "repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    char *rev = fuzz_field(&p, end, '\n', NULL);
    char *commit = fuzz_field(&p, end, '\n', NULL);
    size_t body_len;
    char *body = fuzz_rest(p, end, &body_len);
    /* the tools check the revision before any request */
    const char *asked = hf_revision_check(rev, NULL) == HF_OK ? rev : "main";

    fake_answer a = {NULL, commit[0] ? commit : NULL, body, body_len};
    fake_answers = &a;
    fake_n = 1;
    fake_next = 0;
    fake_requests = 0;
    hf_repo repo = {HF_MODEL, "acme/tiny-model"};
    hf_repo_info info;
    hf_error err = {0};
    hf_code rc = hf_api_repo_info(fake_client("https://hub.invalid"), &repo, asked, &info, &err);
    fuzz_check_error(&err, rc);
    FUZZ_CHECK(fake_requests == 1);
    if (rc == HF_OK) {
        FUZZ_CHECK(hf_is_commit(info.commit));
        if (hf_is_commit(asked))
            FUZZ_CHECK(strcmp(info.commit, asked) == 0);
        if (a.repo_commit)
            FUZZ_CHECK(strcmp(info.commit, a.repo_commit) == 0);
        FUZZ_CHECK(info.gated != NULL);
        FUZZ_CHECK(info.card_data == NULL || json_is_object(info.card_data));
    } else {
        FUZZ_CHECK(rc == HF_EINTEGRITY || rc == HF_EOTHER);
        FUZZ_CHECK(info.id == NULL && info.gated == NULL && info.card_data == NULL);
    }
    hf_repo_info_free(&info);
    fake_answers = NULL;
    free(rev);
    free(commit);
    free(body);
    return 0;
}
