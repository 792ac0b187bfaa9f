/* The Link header. */
#include <string.h>

#include "link.h"
#include "unit.h"

static void expect(const char *header, const char *want) {
    char *got = hf_link_next(header);
    if (!want)
        ck_assert_msg(got == NULL, "'%s' gave '%s'", header, got);
    else {
        ck_assert_msg(got != NULL, "'%s' gave nothing", header);
        ck_assert_str_eq(got, want);
    }
    free(got);
}

START_TEST(next_links) {
    expect("<https://h/api/models/a/b/tree/main?recursive=true&cursor=abc>; rel=\"next\"",
           "https://h/api/models/a/b/tree/main?recursive=true&cursor=abc");
    expect("<https://h/x?c=1>; rel=next", "https://h/x?c=1");
    expect("<https://h/first>; rel=\"first\", <https://h/n>; rel=\"next\"", "https://h/n");
    expect("<https://h/n>; rel=\"prev next\"", "https://h/n");
    expect("<https://h/n>;rel=\"NEXT\"", "https://h/n");
    expect("<https://h/n>; title=\"a, b; c\"; rel=\"next\"", "https://h/n");
    expect("  <https://h/n> ; rel = \"next\" ", "https://h/n");
    expect("</relative?cursor=2>; rel=\"next\"", "/relative?cursor=2");
}
END_TEST

START_TEST(no_next) {
    expect("", NULL);
    expect("<https://h/last>; rel=\"last\"", NULL);
    expect("<https://h/n>; rel=\"nextish\"", NULL);
    expect("https://h/n; rel=next", NULL);
    expect("<https://h/n; rel=next", NULL);
    expect("<>; rel=next", NULL);
    expect("<https://h/n> garbage; rel=next", NULL);
    expect("<https://h/n>; rel=\"next", "https://h/n");
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("link");
    ADD_TEST(s, next_links);
    ADD_TEST(s, no_next);
    return s;
}
