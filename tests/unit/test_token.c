/* Token lookup order and refusal of unusable tokens. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "token.h"
#include "unit.h"

static char dir[] = "/tmp/hf-token-XXXXXX";

static void clear_env(void) {
    unsetenv("HF_TOKEN");
    unsetenv("HUGGING_FACE_HUB_TOKEN");
    unsetenv("HF_TOKEN_PATH");
    unsetenv("HF_HOME");
    setenv("HOME", "/nonexistent-home", 1);
}

static char *write_file(const char *name, const char *content) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
    return path;
}

static void setup(void) {
    ck_assert_ptr_nonnull(mkdtemp(dir));
    clear_env();
}

START_TEST(order) {
    char *tok;
    ck_assert_int_eq(hf_token_load(NULL, &tok, NULL), HF_OK);
    ck_assert_ptr_null(tok);

    char home[600];
    snprintf(home, sizeof home, "%s", dir);
    write_file("token", "from-home\n");
    setenv("HF_HOME", home, 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, NULL), HF_OK);
    ck_assert_str_eq(tok, "from-home");
    free(tok);

    setenv("HF_TOKEN_PATH", write_file("other", "  from-path  \n"), 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, NULL), HF_OK);
    ck_assert_str_eq(tok, "from-path");
    free(tok);

    setenv("HUGGING_FACE_HUB_TOKEN", "legacy-env", 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, NULL), HF_OK);
    ck_assert_str_eq(tok, "legacy-env");
    free(tok);

    setenv("HF_TOKEN", "new-env", 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, NULL), HF_OK);
    ck_assert_str_eq(tok, "new-env");
    free(tok);

    ck_assert_int_eq(hf_token_load(write_file("explicit", "explicit-file"), &tok, NULL), HF_OK);
    ck_assert_str_eq(tok, "explicit-file");
    free(tok);
}
END_TEST

START_TEST(refusals) {
    char *tok;
    hf_error err = {0};
    ck_assert_int_eq(hf_token_load("/nonexistent/token", &tok, &err), HF_EUSAGE);
    setenv("HF_TOKEN", "bad token-secretvalue", 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, &err), HF_EUSAGE);
    ck_assert_ptr_null(strstr(err.msg, "secretvalue"));
    setenv("HF_TOKEN", "evil\r\nX-Injected: 1", 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, &err), HF_EUSAGE);
    ck_assert_ptr_null(strstr(err.msg, "Injected"));
    clear_env();
    ck_assert_int_eq(hf_token_load(write_file("empty", "\n"), &tok, &err), HF_OK);
    ck_assert_ptr_null(tok);
    /* a folder, or a file that cannot be read, is no anonymous run */
    ck_assert_int_eq(hf_token_load(dir, &tok, &err), HF_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "is a folder"));
    ck_assert_int_eq(hf_token_load("/proc/self/mem", &tok, &err), HF_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot read token file"));
    setenv("HF_TOKEN_PATH", dir, 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, &err), HF_EUSAGE);
    unsetenv("HF_TOKEN_PATH");
    /* a missing default token file is no error */
    setenv("HF_TOKEN_PATH", "/nonexistent/token", 1);
    ck_assert_int_eq(hf_token_load(NULL, &tok, &err), HF_OK);
    ck_assert_ptr_null(tok);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("token");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_add_test(tc, order);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return s;
}
