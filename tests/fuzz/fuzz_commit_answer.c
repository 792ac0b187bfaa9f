/* The commit call's answer (hf_commit_answer_parse): commitOid and the URLs. */
#include "fuzz.h"
#include "hub_write.h"
#include "repo.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hf_commit_answer a;
    hf_error err = {0};
    hf_code rc = hf_commit_answer_parse((const char *)data, size, &a, &err);
    fuzz_check_error(&err, rc);
    if (rc == HF_OK) {
        FUZZ_CHECK(hf_is_commit(a.commit));
        FUZZ_CHECK(!a.commit_url || hf_url_is_http(a.commit_url));
        FUZZ_CHECK(!a.pr_url || hf_url_is_http(a.pr_url));
    } else {
        FUZZ_CHECK(a.commit_url == NULL && a.pr_url == NULL);
    }
    hf_commit_answer_free(&a);
    return 0;
}
