/* The hash pipe: the digests of bytes handed over through the ring equal the inline ones,
 * file after file, whatever the sizes of the pieces. */
#include <string.h>

#include "hash.h"
#include "hashpipe.h"
#include "unit.h"

START_TEST(same_digests_as_inline) {
    hf_hashpipe *p = hf_hashpipe_new(3, 4096);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(hf_hashpipe_size(p), 4096);
    static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 100000};
    for (size_t f = 0; f < sizeof sizes / sizeof sizes[0]; f++) {
        long long size = (long long)sizes[f];
        hf_hasher *inline_h = hf_hasher_new(size), *piped = hf_hasher_new(size);
        hf_hashpipe_begin(p, piped);
        for (long long done = 0, k = 0; done < size; k++) {
            unsigned char *b = hf_hashpipe_buffer(p);
            size_t n = (size_t)(1 + (k * 977) % 4096); /* pieces of many sizes */
            if ((long long)n > size - done)
                n = (size_t)(size - done);
            for (size_t i = 0; i < n; i++)
                b[i] = (unsigned char)((done + (long long)i) * 31 + (long long)f);
            hf_hasher_update(inline_h, b, n);
            hf_hashpipe_push(p, n);
            done += (long long)n;
        }
        ck_assert_ptr_eq(hf_hashpipe_end(p), piped);
        char s1[65], s2[65], o1[41], o2[41];
        ck_assert(hf_hasher_final(inline_h, s1, o1));
        ck_assert(hf_hasher_final(piped, s2, o2));
        ck_assert_str_eq(s1, s2);
        ck_assert_str_eq(o1, o2);
        hf_hasher_free(inline_h);
        hf_hasher_free(piped);
    }
    hf_hashpipe_free(p);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("hashpipe");
    ADD_TEST(s, same_digests_as_inline);
    return s;
}
