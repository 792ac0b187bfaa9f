/* Repository paths from a server: hf_path_is_safe, against an independent reading of the
 * rule (relative, valid UTF-8, no empty, "." or ".." segment, no backslash or control
 * character, at most 4096 bytes and 255 per segment). Both must agree on every input. */
#include <stdbool.h>

#include "fuzz.h"
#include "pathsafe.h"

/* Strict UTF-8 (RFC 3629): the length of the sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogates */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static bool oracle(const char *path) {
    size_t len = strlen(path);
    if (len == 0 || len > 4096 || path[0] == '/')
        return false;
    const unsigned char *s = (const unsigned char *)path;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
            return false;
        size_t k = utf8_seq(s + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    const char *seg = path;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        if (n == 0 || n > 255)
            return false;
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!slash)
            break;
        seg = slash + 1;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = fuzz_rest(data, data + size, NULL);
    const char *why = NULL;
    bool safe = hf_path_is_safe(path, &why);
    bool want = oracle(path);
    if (safe != want)
        fprintf(stderr, "hf_path_is_safe says %d, the rule says %d (%s)\n", safe, want,
                why ? why : "-");
    FUZZ_CHECK(safe == want);
    FUZZ_CHECK(safe || (why && why[0]));
    free(path);
    return 0;
}
