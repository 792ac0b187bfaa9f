/* The commit call's NDJSON body, line by line, and base64. */
#include <jansson.h>
#include <string.h>

#include "commit_body.h"
#include "unit.h"

START_TEST(base64_vectors) {
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *s = hf_base64(in[i], strlen(in[i]));
        ck_assert_str_eq(s, out[i]);
        free(s);
    }
    unsigned char bin[] = {0, 0xff, 0x10, 0x80};
    char *s = hf_base64(bin, 4);
    ck_assert_str_eq(s, "AP8QgA==");
    free(s);
}
END_TEST

/* Line n (0-based) of the body, as JSON. */
static json_t *line(const hf_buf *b, int n) {
    const char *p = b->data;
    for (int i = 0; i < n; i++)
        p = strchr(p, '\n') + 1;
    const char *end = strchr(p, '\n');
    ck_assert_ptr_nonnull(end);
    json_error_t je;
    json_t *v = json_loadb(p, (size_t)(end - p), 0, &je);
    ck_assert_msg(v != NULL, "line %d: %s", n, je.text);
    return v;
}

START_TEST(body_lines) {
    hf_buf b = {0};
    hf_error err = {0};
    char parent[41];
    memset(parent, 'a', 40);
    parent[40] = '\0';
    ck_assert_int_eq(hf_commit_header(&b, "Add \"files\"\n", "why: ünï", parent, &err), HF_OK);
    ck_assert_int_eq(hf_commit_file(&b, "dir/a b.txt", "hi\0x", 4, &err), HF_OK);
    char oid[65];
    memset(oid, 'b', 64);
    oid[64] = '\0';
    ck_assert_int_eq(hf_commit_lfs(&b, "w.bin", oid, 5000000000LL, &err), HF_OK);
    ck_assert_int_eq(hf_commit_delete(&b, "old.txt", &err), HF_OK);
    /* one object per line, every line ends with a newline, nothing else */
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    ck_assert_uint_eq(lines, 4);
    ck_assert(b.data[b.len - 1] == '\n');
    json_t *want[4];
    want[0] = json_pack("{s:s, s:{s:s, s:s, s:s}}", "key", "header", "value", "summary",
                        "Add \"files\"\n", "description", "why: ünï", "parentCommit", parent);
    want[1] = json_pack("{s:s, s:{s:s, s:s, s:s}}", "key", "file", "value", "path", "dir/a b.txt",
                        "content", "aGkAeA==", "encoding", "base64");
    want[2] = json_pack("{s:s, s:{s:s, s:s, s:s, s:I}}", "key", "lfsFile", "value", "path", "w.bin",
                        "algo", "sha256", "oid", oid, "size", (json_int_t)5000000000LL);
    want[3] = json_pack("{s:s, s:{s:s}}", "key", "deletedFile", "value", "path", "old.txt");
    for (int i = 0; i < 4; i++) {
        json_t *got = line(&b, i);
        ck_assert_msg(json_equal(got, want[i]), "line %d: %s", i, b.data);
        json_decref(got);
        json_decref(want[i]);
    }
    /* the header's key comes first, as the Hub reads it */
    ck_assert(strncmp(b.data, "{\"key\":\"header\"", 15) == 0);
    hf_buf_free(&b);
    /* without a parent commit the header has none */
    ck_assert_int_eq(hf_commit_header(&b, "s", NULL, NULL, &err), HF_OK);
    ck_assert_ptr_null(strstr(b.data, "parentCommit"));
    hf_buf_free(&b);
}
END_TEST

START_TEST(file_line_in_pieces) {
    /* a line written a chunk at a time is one JSON object per line, with the path as given
     * and the content the base64 of the whole, for every length and piece size */
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    const char *path = "d/\"q\"\\ é\t.txt";
    hf_error err = {0};
    for (size_t len = 0; len < 40; len++) {
        for (size_t piece = 3; piece <= 12; piece += 3) {
            hf_buf b = {0};
            ck_assert_int_eq(hf_commit_file_begin(&b, path, &err), HF_OK);
            for (size_t at = 0; at < len; at += piece)
                ck_assert_int_eq(
                    hf_commit_file_chunk(&b, data + at, len - at < piece ? len - at : piece, &err),
                    HF_OK);
            ck_assert_int_eq(hf_commit_file_end(&b, &err), HF_OK);
            ck_assert(b.len > 0 && b.data[b.len - 1] == '\n' && !memchr(b.data, '\n', b.len - 1));
            char *b64 = hf_base64(data, len);
            json_t *want = json_pack("{s:s, s:{s:s, s:s, s:s}}", "key", "file", "value", "path",
                                     path, "content", b64, "encoding", "base64");
            json_t *got = line(&b, 0);
            ck_assert_msg(json_equal(got, want), "len %zu piece %zu: %s", len, piece, b.data);
            json_decref(got);
            json_decref(want);
            free(b64);
            hf_buf_free(&b);
        }
    }
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("commit_body");
    ADD_TEST(s, base64_vectors);
    ADD_TEST(s, body_lines);
    ADD_TEST(s, file_line_in_pieces);
    return s;
}
