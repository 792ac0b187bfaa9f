/* The Link header of a tree page (RFC 8288): hf_link_next. What it returns must be a
 * non-empty copy of text that was inside <...> in the header. */
#include "fuzz.h"
#include "link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *h = fuzz_rest(data, data + size, NULL);
    char *next = hf_link_next(h);
    if (next) {
        size_t n = strlen(next);
        FUZZ_CHECK(n > 0 && n < strlen(h));
        FUZZ_CHECK(strchr(next, '>') == NULL);
        char *quoted = malloc(n + 3);
        FUZZ_CHECK(quoted != NULL);
        quoted[0] = '<';
        memcpy(quoted + 1, next, n);
        memcpy(quoted + 1 + n, ">", 2);
        FUZZ_CHECK(strstr(h, quoted) != NULL);
        free(quoted);
    }
    free(next);
    free(h);
    return 0;
}
