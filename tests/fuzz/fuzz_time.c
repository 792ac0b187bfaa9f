/* The commit's date, from the server's lastModified (a manifest's commit_date), which
 * hf-bundle turns into every entry's time: hf_bundle_parse_time. A time it accepts must be
 * written back (hf_bundle_format_time) as text that reads the same. */
#include "bundle.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_rest(data, data + size, NULL);
    long long t = 0;
    if (hf_bundle_parse_time(s, &t)) {
        char text[32];
        hf_bundle_format_time(t, text);
        FUZZ_CHECK(memchr(text, '\0', sizeof text) != NULL);
        if (t >= 0 && t < 253402300800LL) { /* 1970 to 9999: four-digit years */
            long long again = -1;
            FUZZ_CHECK(hf_bundle_parse_time(text, &again));
            FUZZ_CHECK(again == t);
        }
    }
    free(s);
    return 0;
}
