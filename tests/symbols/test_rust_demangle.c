/* test_rust_demangle.c: the Rust demangler on hand-written vectors of both
 * manglings (each checked against binutils' c++filt, whose output is the
 * verbose form), the choice between Rust and C++ in sym_demangle, and
 * hostile names: deep nesting, backref loops, exponential backrefs, huge
 * numbers, bad punycode, small buffers. All must fail fast, never hang. */
#include "check.h"
#include "sym_internal.h"

#include <stdlib.h>
#include <time.h>

typedef struct vector {
    const char *mangled, *plain, *verbose;
} vector;

static const vector vectors[] = {
    /* v0: crate disambiguators, nested paths, closures, shims, suffixes */
    {"_RNvCs1234_7mycrate3foo", "mycrate::foo", "mycrate[3c1c0]::foo"},
    {"_RNCNvC7mycrate3foos_0", "mycrate::foo::{closure#1}", "mycrate[0]::foo::{closure#1}"},
    {"_RNSNvC7mycrate3foo6vtable", "mycrate::foo::{shim:vtable#0}",
     "mycrate[0]::foo::{shim:vtable#0}"},
    {"_RNvC7mycrate3fooCs1234_5other", "mycrate::foo", "mycrate[0]::foo"},
    {"_RNvC7mycrate3foo.llvm.1234", "mycrate::foo", "mycrate[0]::foo"},
    {"_RNvC6_123foo3bar", "123foo::bar", "123foo[0]::bar"},
    {"_RNvC0_3foo", "::foo", "[0]::foo"},                 /* an empty crate name */
    /* generics and backrefs */
    {"_RINvC7mycrate3fooNtB2_3BarE", "mycrate::foo::<mycrate::Bar>",
     "mycrate[0]::foo::<mycrate[0]::Bar>"},
    {"_RINvC7mycrate3fooThEAtj3_PhOmQlSbE",
     "mycrate::foo::<(u8,), [u16; 3], *const u8, *mut u32, &mut i32, [bool]>",
     "mycrate[0]::foo::<(u8,), [u16; 3: usize], *const u8, *mut u32, &mut i32, [bool]>"},
    /* impls */
    {"_RNvXs_NtC7mycrate3modNtB4_3FooNtNtC4core3fmt5Debug3fmt",
     "<mycrate::mod::Foo as core::fmt::Debug>::fmt",
     "<mycrate[0]::mod::Foo as core[0]::fmt::Debug>::fmt"},
    {"_RNvMNtC7mycrate3modNtB2_3Foo3new", "<mycrate::mod::Foo>::new",
     "<mycrate[0]::mod::Foo>::new"},
    /* fn pointers, binders, ABIs, dyn with an associated type */
    {"_RINvC7mycrate3fooFG_RL0_eERL0_eE", "mycrate::foo::<for<'a> fn(&'a str) -> &'a str>",
     "mycrate[0]::foo::<for<'a> fn(&'a str) -> &'a str>"},
    {"_RINvC7mycrate3fooFKCEuFUK10vectorcallEhE",
     "mycrate::foo::<extern \"C\" fn(), unsafe extern \"vectorcall\" fn() -> u8>",
     "mycrate[0]::foo::<extern \"C\" fn(), unsafe extern \"vectorcall\" fn() -> u8>"},
    {"_RINvC7mycrate3fooDNtNtNtC4core4iter6traits8Iteratorp4ItemhEL_E",
     "mycrate::foo::<dyn core::iter::traits::Iterator<Item = u8>>",
     "mycrate[0]::foo::<dyn core[0]::iter::traits::Iterator<Item = u8>>"},
    /* consts: integers, negative, bool, char, wider than 64 bits */
    {"_RINvC7mycrate3fooKj2a_Kan7f_E", "mycrate::foo::<42, -127>",
     "mycrate[0]::foo::<42: usize, -127: i8>"},
    {"_RINvC7mycrate3fooKb1_Kc1f600_KpE", "mycrate::foo::<true, '\\u{1f600}', _>",
     "mycrate[0]::foo::<true: bool, '\\u{1f600}': char, _>"},
    {"_RINvC7mycrate3fooKofffffffffffffffffffffffffffffffe_E",
     "mycrate::foo::<0xfffffffffffffffffffffffffffffffe>",
     /* c++filt 2.40 prints "0xffffffffffffffffffffffffffffffe_" here (a bug) */
     "mycrate[0]::foo::<0xfffffffffffffffffffffffffffffffe: u128>"},
    /* punycode identifiers */
    {"_RNvC7mycrateu7lzzs90a", "mycrate::計算", "mycrate[0]::計算"},
    {"_RNvC7mycrateu9gre_6ka8i", "mycrate::größe", "mycrate[0]::größe"},
    /* legacy: the hash hidden, $..$ escapes, "..", a "." suffix */
    {"_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17h0123456789abcdefE",
     "<alloc::string::String as core::fmt::Display>::fmt",
     "<alloc::string::String as core::fmt::Display>::fmt::h0123456789abcdef"},
    {"_ZN4main28_$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE", "main::{{closure}}",
     "main::{{closure}}::h0123456789abcdef"},
    {"_ZN4core3ptr54drop_in_place$LT$$RF$mut$u20$$BP$const$u20$u8$C$u8$GT$17h0123456789abcdefE.llvm.42",
     "core::ptr::drop_in_place<&mut *const u8,u8>",
     "core::ptr::drop_in_place<&mut *const u8,u8>::h0123456789abcdef"},
    {"_ZN3foo5a.b.c17h0123456789abcdefE", "foo::a.b.c", "foo::a.b.c::h0123456789abcdef"},
    {"_ZN3foo8bad$ZZ$x17h0123456789abcdefE", "foo::bad$ZZ$x", "foo::bad$ZZ$x::h0123456789abcdef"},
};

/* Names that are not Rust symbols, or malformed ones. */
static const char *const not_rust[] = {
    "main", "_Z3foov", "_ZN3foo3barEv", "_ZNSt6vectorIiSaIiEE9push_backERKi",
    "_ZN3foo17h0000000000000000E",          /* a hash needs 5 distinct digits */
    "_ZN3foo17h0123456789abcdefEv",         /* C++ parameters after the E */
    "_R", "_Rv", "_RNvC7mycrate3fo", "_RNvC7mycrate3foo$", "_RINvC7mycrate3fooNtB2_3Bar",
    "_RNvB_3foo",                             /* a backref to itself, through N */
    "_RB_", "_RNvB9_3foo",                    /* backrefs to here or forward */
    "_RNvC7mycrate3fooCsZZZZZZZZZZZZZZZZZZZZZZZ_3bar", /* base-62 overflow */
    "_RNvC99999999999999999999999mycrate",   /* length overflow */
    "_RINvC7mycrate3fooDG_NtC7mycrate3BarEL0_E", /* lifetime of a closed binder */
    "_RINvC7mycrate3fooKb2_E", "_RINvC7mycrate3fooKc123456789_E", "_RINvC7mycrate3fooKfE",
    "_RNvC7mycrateu3abc", "_RNvC7mycrateu2a_", "_RNvC7mycrateu4zzzz", /* bad punycode */
};

static void test_vectors(void)
{
    char out[SYM_RUST_MAX_NAME];
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
        const vector *v = &vectors[i];
        int n = sym_rust_demangle(v->mangled, out, sizeof out, false);
        CHECK_STR(n >= 0 ? out : "(failed)", v->plain);
        CHECK_INT(n, (int64_t)strlen(v->plain));
        n = sym_rust_demangle(v->mangled, out, sizeof out, true);
        CHECK_STR(n >= 0 ? out : "(failed)", v->verbose);
    }
    for (size_t i = 0; i < sizeof not_rust / sizeof *not_rust; i++) {
        int n = sym_rust_demangle(not_rust[i], out, sizeof out, false);
        if (n >= 0)
            fprintf(stderr, "%s: demangled as \"%s\"\n", not_rust[i], out);
        CHECK(n < 0 && out[0] == '\0');
    }
    /* a name that does not fit fails rather than coming back cut */
    CHECK(sym_rust_demangle("_RNvC7mycrate3foo", out, 12, false) < 0 && out[0] == '\0');
    CHECK(sym_rust_demangle("_RNvC7mycrate3foo", out, 13, false) == 12);
}

/* sym_demangle tries Rust first: legacy Rust names are valid Itanium
 * names, which __cxa_demangle would print with their hash. */
static void test_rust_before_cpp(void)
{
    sym_strings *in = sym_strings_new();
    CHECK_STR(sym_demangle(in, "_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write");
    CHECK_STR(sym_demangle(in, "_RNvCs1234_7mycrate3foo"), "mycrate::foo");
    CHECK_STR(sym_demangle(in, "_ZN3foo3barEv"), "foo::bar()");
    CHECK_STR(sym_demangle(in, "_ZN3foo17h0000000000000000E"), "foo::h0000000000000000");
    CHECK_STR(sym_demangle(in, "_RNvB_3foo"), "_RNvB_3foo");
    CHECK_STR(sym_demangle(in, "main"), "main");
    sym_strings_free(in);
}

/* Appends the base-62 encoding of position p ("_" for 0). */
static size_t put_backref(char *s, size_t n, size_t p)
{
    s[n++] = 'B';
    if (p > 0) {
        char digits[16];
        size_t k = 0;
        for (size_t v = p - 1;; v /= 62) {
            digits[k++] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 62];
            if (v < 62)
                break;
        }
        while (k > 0)
            s[n++] = digits[--k];
    }
    s[n++] = '_';
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hostile shapes, each of which a naive demangler would recurse on without
 * bound, loop on, or print for ever: all fail, and quickly. */
static void test_hostile(void)
{
    size_t cap = 1 << 20;
    char *s = malloc(cap);
    char out[SYM_RUST_MAX_NAME];
    double start = now_s();

    /* 100 000 nested references */
    size_t n = (size_t)sprintf(s, "_RINvC1a1f");
    for (int i = 0; i < 100000; i++)
        s[n++] = 'R';
    n += (size_t)sprintf(s + n, "uE");
    CHECK(sym_rust_demangle(s, out, sizeof out, false) < 0);

    /* exponential: each tuple holds the previous one twice (2^60 leaves) */
    n = (size_t)sprintf(s, "_RINvC1a1fTuuE");
    size_t prev = 8; /* position of the first tuple, after "_R" */
    for (int i = 0; i < 60; i++) {
        size_t here = n - 2;
        s[n++] = 'T';
        n = put_backref(s, n, prev);
        n = put_backref(s, n, prev);
        s[n++] = 'E';
        prev = here;
    }
    s[n++] = 'E';
    s[n] = '\0';
    CHECK(sym_rust_demangle(s, out, sizeof out, false) < 0);
    CHECK(sym_rust_demangle(s, out, sizeof out, true) < 0);

    /* the same with only a few levels is a fine symbol */
    CHECK(sym_rust_demangle("_RINvC1a1fTuuETB7_B7_EE", out, sizeof out, false) >= 0);
    CHECK_STR(out, "a::f::<((), ()), (((), ()), ((), ()))>");

    /* generic arguments, each a backref to the one before: a chain 5000
     * deep by the last one */
    n = (size_t)sprintf(s, "_RINvC1a1fu");
    prev = 8;
    for (int i = 0; i < 5000; i++) {
        size_t here = n - 2;
        n = put_backref(s, n, prev);
        prev = here;
    }
    s[n++] = 'E';
    s[n] = '\0';
    CHECK(sym_rust_demangle(s, out, sizeof out, false) < 0);

    /* a long legacy name: fits in the cap or fails, never overflows */
    n = (size_t)sprintf(s, "_ZN");
    for (int i = 0; i < 20000; i++)
        n += (size_t)sprintf(s + n, "4$LT$");
    n += (size_t)sprintf(s + n, "17h0123456789abcdefE");
    CHECK(sym_rust_demangle(s, out, sizeof out, false) < 0);

    double took = now_s() - start;
    if (took > 2.0)
        fprintf(stderr, "hostile names took %.2f s\n", took);
    CHECK(took < 2.0);
    free(s);
}

int main(void)
{
    test_vectors();
    test_rust_before_cpp();
    test_hostile();
    return check_report("test_rust_demangle");
}
