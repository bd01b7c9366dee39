/* test_view_units.c: the live view's pure pieces, without a terminal:
 * column-aware fitting, sparklines, location shortening, the filter
 * prompt's parsing, the OSC 52 encoding and the cursor arithmetic. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_clip.h"
#include "view_filter.h"
#include "view_loc.h"
#include "view_page.h"
#include "view_text.h"

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#define CHECK_STR(got, want)                                                        \
    do {                                                                            \
        if (strcmp((got), (want)) != 0) {                                           \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
                    (got), (want));                                                 \
            failures++;                                                             \
        }                                                                           \
    } while (0)

static void test_fit_cuts_at_columns_not_bytes(void)
{
    const view_glyphs *u = view_glyphs_get(true), *a = view_glyphs_get(false);
    char out[128];
    CHECK(view_text_fit(out, sizeof(out), "hello", 10, u) == 5);
    CHECK_STR(out, "hello");
    CHECK(view_text_fit(out, sizeof(out), "hello world", 8, u) == 8);
    CHECK_STR(out, "hello w…");
    CHECK(view_text_fit(out, sizeof(out), "hello world", 8, a) == 8);
    CHECK_STR(out, "hello ..");
    CHECK(view_text_width("▁▂█") == 3);   /* 9 bytes, 3 columns */
    CHECK(view_text_fit_left(out, sizeof(out), "/a/b/c/file.c:12", 10, u) == 10);
    CHECK_STR(out, "…file.c:12");
}

static void test_spark_scales_min_to_max(void)
{
    char out[128];
    int64_t rising[] = {0, 50, 100};
    view_spark(out, sizeof(out), rising, 3, view_glyphs_get(true));
    CHECK_STR(out, "▁▅█");
    view_spark(out, sizeof(out), rising, 3, view_glyphs_get(false));
    CHECK_STR(out, "_-#");
    int64_t flat[] = {7, 7};
    view_spark(out, sizeof(out), flat, 2, view_glyphs_get(false));
    CHECK_STR(out, "__");
}

static void test_location_shortens_path_at_a_slash(void)
{
    diff_frame f = {.function = "handle_request", .file = "/srv/app/src/net/server.c", .line = 88};
    view_loc_style st = {.g = view_glyphs_get(true), .cwd = "/srv/app", .show_line = true, .show_function = true};
    char out[256];
    view_loc_format(out, sizeof(out), &f, 80, &st);
    CHECK_STR(out, "handle_request  src/net/server.c:88");
    int used = view_loc_format(out, sizeof(out), &f, 30, &st);
    CHECK(used <= 30);
    CHECK(strstr(out, "server.c:88") != NULL);
    CHECK(strstr(out, "…/") != NULL);   /* cut at a directory, not inside a name */
    diff_frame nofile = {.function = NULL, .module = "/usr/lib/libfoo.so", .offset = 0x1a2b};
    view_loc_format(out, sizeof(out), &nofile, 80, &st);
    CHECK_STR(out, "libfoo.so+0x1a2b");
    st.show_line = false;
    view_loc_format(out, sizeof(out), &f, 80, &st);
    CHECK_STR(out, "handle_request  src/net/server.c");
}

static void test_filter_words_become_tracemalloc_filters(void)
{
    view_filter f = {0};
    char err[256];
    CHECK(view_filter_set(&f, "  foo*.c -bar.c src/x.c:42 ", err, sizeof(err)) == 0);
    /* foo*.c and bar.c also get their any-directory twin; src/x.c has a '/' */
    CHECK(f.n == 5);
    CHECK(f.items[0].inclusive && strcmp(f.items[0].pattern, "foo*.c") == 0 && f.items[0].lineno == -1);
    CHECK(f.items[1].inclusive && strcmp(f.items[1].pattern, "*/foo*.c") == 0);
    CHECK(!f.items[2].inclusive && strcmp(f.items[2].pattern, "bar.c") == 0);
    CHECK(!f.items[3].inclusive && strcmp(f.items[3].pattern, "*/bar.c") == 0);
    CHECK(strcmp(f.items[4].pattern, "src/x.c") == 0 && f.items[4].lineno == 42);
    CHECK_STR(f.text, "  foo*.c -bar.c src/x.c:42 ");
    CHECK(view_filter_set(&f, "-", err, sizeof(err)) != 0);   /* refused, f unchanged */
    CHECK(f.n == 5);
    CHECK(view_filter_set(&f, "   ", err, sizeof(err)) == 0);
    CHECK(f.n == 0 && f.text[0] == 0);
    diff_filter cli = {.inclusive = true, .pattern = "main.c", .lineno = -1};
    view_filter_from(&f, &cli, 1);   /* command-line filters keep their exact meaning */
    CHECK(f.n == 1 && strcmp(f.items[0].pattern, "main.c") == 0);
    CHECK_STR(f.text, "main.c");
    view_filter_free(&f);
}

static void test_osc52_encodes_and_wraps_for_tmux(void)
{
    char *plain = view_clip_osc52("hi\n", 3, 0);
    CHECK_STR(plain, "\033]52;c;aGkK\a");
    free(plain);
    char *tmux = view_clip_osc52("abcd", 4, 1);
    CHECK_STR(tmux, "\033]52;c;YWJjZA==\a\033Ptmux;\033\033]52;c;YWJjZA==\a\033\\");
    free(tmux);
}

static void test_cursor_selects_and_scrolls(void)
{
    view_cursor c = {0};
    view_cursor_move(&c, 100, 30, 10, true);
    CHECK(c.sel == 30 && c.top == 21);
    view_cursor_move(&c, 100, 1000, 10, true);
    CHECK(c.sel == 99 && c.top == 90);
    view_cursor_clamp(&c, 5, 10, true);   /* rows went away */
    CHECK(c.sel == 4 && c.top == 0);
    view_cursor scroll = {0};
    view_cursor_move(&scroll, 25, 100, 10, false);
    CHECK(scroll.top == 15);
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8")) {
        fprintf(stderr, "no C.UTF-8 locale: skipped\n");
        return 77;
    }
    test_fit_cuts_at_columns_not_bytes();
    test_spark_scales_min_to_max();
    test_location_shortens_path_at_a_slash();
    test_filter_words_become_tracemalloc_filters();
    test_osc52_encodes_and_wraps_for_tmux();
    test_cursor_selects_and_scrolls();
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}
