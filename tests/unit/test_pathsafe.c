/* Path safety: what may be written under a target folder. */
#include <string.h>

#include "pathsafe.h"
#include "unit.h"

START_TEST(safe_paths) {
    const char *ok[] = {"a", "a/b/c.txt", "sub dir/file with spaces.txt", "données/é.txt",
                        ".gitattributes", "a/.hidden", "..a", "a..", "日本/語.bin", "a b#c%d?e"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        ck_assert_msg(hf_path_is_safe(ok[i], NULL), "refused %s", ok[i]);
}
END_TEST

START_TEST(unsafe_paths) {
    char long_seg[300];
    memset(long_seg, 'a', sizeof long_seg - 1);
    long_seg[sizeof long_seg - 1] = '\0';
    const char *bad[] = {"",      "/etc/passwd", "../x",   "a/../../x", "a/..",   "..",
                         ".",     "./a",         "a/./b",  "a//b",      "a/",     "a\\b",
                         "\\x",   "a\tb",        "a\nb",   "a\x7f",     "\x01",   "\xff",
                         "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", long_seg};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *why = NULL;
        ck_assert_msg(!hf_path_is_safe(bad[i], &why), "accepted case %zu", i);
        ck_assert_ptr_nonnull(why);
    }
    ck_assert(!hf_path_is_safe(NULL, NULL));
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("pathsafe");
    ADD_TEST(s, safe_paths);
    ADD_TEST(s, unsafe_paths);
    return s;
}
