/* The LFS batch answer (hf_lfs_batch_parse): objects, actions, multipart part URLs. */
#include "fuzz.h"
#include "hub_write.h"
#include "repo.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hf_lfs_objects o;
    hf_error err = {0};
    hf_code rc = hf_lfs_batch_parse((const char *)data, size, &o, &err);
    fuzz_check_error(&err, rc);
    if (rc != HF_OK) {
        FUZZ_CHECK(o.v == NULL && o.n == 0);
        return 0;
    }
    for (size_t i = 0; i < o.n; i++) {
        const hf_lfs_object *x = &o.v[i];
        FUZZ_CHECK(hf_is_hex(x->oid, 64) && x->size >= 0);
        FUZZ_CHECK(x->present == (x->upload_href == NULL));
        FUZZ_CHECK(!x->upload_href || hf_url_is_http(x->upload_href));
        FUZZ_CHECK(!x->verify_href || hf_url_is_http(x->verify_href));
        if (x->chunk_size) {
            FUZZ_CHECK(x->chunk_size > 0 && x->size > 0);
            FUZZ_CHECK((long long)x->n_parts ==
                       x->size / x->chunk_size + (x->size % x->chunk_size != 0));
            for (size_t k = 0; k < x->n_parts; k++)
                FUZZ_CHECK(x->parts[k] && hf_url_is_http(x->parts[k]));
        } else {
            FUZZ_CHECK(x->n_parts == 0 && x->parts == NULL);
        }
    }
    hf_lfs_objects_free(&o);
    return 0;
}
