/* Model card front matter: finding it, reading unusual YAML, license and name. */
#include <string.h>

#include "bundle_card.h"
#include "unit.h"

static json_t *yaml(const char *text, hf_code want) {
    json_t *out = NULL;
    hf_error err = {0};
    ck_assert_int_eq(hf_card_yaml_to_json(text, strlen(text), &out, &err), want);
    if (want != HF_OK) {
        ck_assert_ptr_null(out);
        ck_assert(err.msg[0] != '\0');
    }
    return out;
}

static json_t *card(const char *readme) {
    json_t *out = NULL;
    hf_error err = {0};
    ck_assert_int_eq(hf_card_parse(readme, strlen(readme), &out, &err), HF_OK);
    return out;
}

static size_t licenses(const json_t *c, const char **ls) {
    return hf_card_licenses(c, ls, 8);
}

START_TEST(front_matter_found) {
    const char *fm;
    size_t n;
    const char *t = "---\nlicense: mit\n---\n# Title\n";
    ck_assert(hf_card_front_matter(t, strlen(t), &fm, &n));
    ck_assert_uint_eq(n, strlen("license: mit"));
    ck_assert(strncmp(fm, "license: mit", n) == 0);
    t = "\n  ---\r\nlicense: mit\r\n---\r\nbody";
    ck_assert(hf_card_front_matter(t, strlen(t), &fm, &n));
    ck_assert(strncmp(fm, "license: mit", n) == 0);
    t = "---\na: 1\n---"; /* at the very end */
    ck_assert(hf_card_front_matter(t, strlen(t), &fm, &n));
    ck_assert_uint_eq(n, 4);
}
END_TEST

START_TEST(front_matter_absent) {
    const char *fm;
    size_t n;
    const char *none[] = {"",
                          "# Title\n",
                          "--\na: 1\n---\n",
                          "---\na: 1\n",
                          "---a\nb\n---\n",
                          "---\na: 1\n----\n",
                          "text\n---\na: 1\n---\n"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        ck_assert_msg(!hf_card_front_matter(none[i], strlen(none[i]), &fm, &n), "%zu", i);
}
END_TEST

START_TEST(scalars_by_core_schema) {
    json_t *o = yaml("s: text\nq: \"2.0\"\ni: 42\nneg: -7\nhex: 0x1f\noct: 0o17\nf: 2.5\n"
                     "e: 1e3\nt: true\nF: False\nn: null\ntilde: ~\nempty:\nbig: "
                     "99999999999999999999999\ninf: .inf\nblock: |\n  two\n  lines\n",
                     HF_OK);
    ck_assert(json_is_object(o));
    ck_assert_str_eq(json_string_value(json_object_get(o, "s")), "text");
    ck_assert_str_eq(json_string_value(json_object_get(o, "q")), "2.0");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "i")), 42);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "neg")), -7);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "hex")), 31);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "oct")), 15);
    ck_assert(json_is_real(json_object_get(o, "f")));
    ck_assert(json_is_real(json_object_get(o, "e")));
    ck_assert(json_is_true(json_object_get(o, "t")));
    ck_assert(json_is_false(json_object_get(o, "F")));
    ck_assert(json_is_null(json_object_get(o, "n")));
    ck_assert(json_is_null(json_object_get(o, "tilde")));
    ck_assert(json_is_null(json_object_get(o, "empty")));
    ck_assert(json_is_string(json_object_get(o, "big")));
    ck_assert(json_is_string(json_object_get(o, "inf")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "block")), "two\nlines\n");
    json_decref(o);
}
END_TEST

START_TEST(multi_document_reads_the_first) {
    json_t *o = yaml("license: mit\n---\nlicense: other\n---\n[broken\n", HF_OK);
    ck_assert_str_eq(json_string_value(json_object_get(o, "license")), "mit");
    json_decref(o);
    o = yaml("--- \nlicense: apache-2.0\n...\n--- {a: 1}\n", HF_OK);
    ck_assert_str_eq(json_string_value(json_object_get(o, "license")), "apache-2.0");
    json_decref(o);
}
END_TEST

START_TEST(anchors_and_aliases) {
    json_t *o = yaml("base: &b {name: x, n: 1}\nother: *b\nlic: &l apache-2.0\nlicense: *l\n"
                     "merge: {<<: *b}\n",
                     HF_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "other"), "name")), "x");
    const char *ls[8];
    ck_assert_uint_eq(licenses(o, ls), 1);
    ck_assert_str_eq(ls[0], "apache-2.0");
    /* a merge key is kept as a plain key: no merging, no crash */
    ck_assert(json_is_object(json_object_get(json_object_get(o, "merge"), "<<")));
    json_decref(o);
}
END_TEST

START_TEST(alias_bombs_and_cycles_refused) {
    yaml("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, "
         "*c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
         HF_EUSAGE);
    /* libyaml lets an alias refer to the node that holds it */
    json_t *o = NULL;
    hf_error err = {0};
    const char *cyc = "&a [*a]\n";
    hf_code rc = hf_card_yaml_to_json(cyc, strlen(cyc), &o, &err);
    ck_assert(rc == HF_EUSAGE || (rc == HF_OK && o));
    json_decref(o);
    /* deep nesting */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[399] = '\0';
    deep[199] = 'x';
    deep[200] = ']';
    yaml(deep, HF_EUSAGE);
}
END_TEST

START_TEST(non_string_license) {
    const char *ls[8];
    const char *cards[] = {"license: 2.0\n",  "license: 3\n",        "license: true\n",
                           "license:\n",      "license: {a: b}\n",   "license: []\n",
                           "license: \"\"\n", "license: \"a\\0b\"\n"};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        json_t *o = yaml(cards[i], HF_OK);
        ck_assert_msg(licenses(o, ls) == 0, "%s", cards[i]);
        json_decref(o);
    }
    json_t *o = yaml("license: [mit, 3, {x: y}, cc-by-4.0, null]\n", HF_OK);
    ck_assert_uint_eq(licenses(o, ls), 2);
    ck_assert_str_eq(ls[0], "mit");
    ck_assert_str_eq(ls[1], "cc-by-4.0");
    ck_assert_uint_eq(hf_card_licenses(o, ls, 1), 1);
    json_decref(o);
    ck_assert_uint_eq(hf_card_licenses(NULL, ls, 8), 0);
}
END_TEST

START_TEST(odd_documents) {
    /* the document is not a mapping: it still converts */
    json_t *o = yaml("- a\n- b\n", HF_OK);
    ck_assert(json_is_array(o));
    json_decref(o);
    o = yaml("just text\n", HF_OK);
    ck_assert(json_is_string(o));
    json_decref(o);
    ck_assert_ptr_null(yaml("", HF_OK));
    ck_assert_ptr_null(yaml("# only a comment\n", HF_OK));
    /* complex keys are left out, repeated keys keep the last */
    o = yaml("? [a, b]\n: 1\nk: 1\nk: 2\n", HF_OK);
    ck_assert_uint_eq(json_object_size(o), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "k")), 2);
    json_decref(o);
    /* tags do not matter */
    o = yaml("license: !!str mit\nx: !custom {a: 1}\n", HF_OK);
    ck_assert_str_eq(json_string_value(json_object_get(o, "license")), "mit");
    json_decref(o);
    /* invalid YAML */
    yaml("license: [unclosed\n", HF_EUSAGE);
    yaml("\tlicense: mit\n", HF_EUSAGE);
    yaml("a: *undefined\n", HF_EUSAGE);
    yaml("a: \"\\xff\"\nb: \xff\xfe\n", HF_EUSAGE);
}
END_TEST

START_TEST(cards_and_names) {
    json_t *c = card("---\nlicense: mit\npretty_name: Tiny things\n---\n# x\n");
    ck_assert_str_eq(hf_card_name(c), "Tiny things");
    json_decref(c);
    c = card("---\nmodel-index:\n  - name: tiny-model\n    results: []\n---\n");
    ck_assert_str_eq(hf_card_name(c), "tiny-model");
    json_decref(c);
    c = card("---\npretty_name: 12\nmodel_name: [x]\n---\n");
    ck_assert_ptr_null(hf_card_name(c));
    json_decref(c);
    ck_assert_ptr_null(card("no front matter"));
    ck_assert_ptr_null(hf_card_name(NULL));
    json_t *out = NULL;
    hf_error err = {0};
    const char *bad = "---\n{]\n---\n";
    ck_assert_int_eq(hf_card_parse(bad, strlen(bad), &out, &err), HF_EUSAGE);
    ck_assert_ptr_null(out);
}
END_TEST

Suite *make_suite(void) {
    Suite *s = suite_create("bundle_card");
    ADD_TEST(s, front_matter_found);
    ADD_TEST(s, front_matter_absent);
    ADD_TEST(s, scalars_by_core_schema);
    ADD_TEST(s, multi_document_reads_the_first);
    ADD_TEST(s, anchors_and_aliases);
    ADD_TEST(s, alias_bombs_and_cycles_refused);
    ADD_TEST(s, non_string_license);
    ADD_TEST(s, odd_documents);
    ADD_TEST(s, cards_and_names);
    return s;
}
