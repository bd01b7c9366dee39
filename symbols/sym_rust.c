/* sym_rust.c: Rust symbol demangling, both manglings rustc emits: v0
 * (`_R...`, RFC 2603: paths, generics, types, consts, backrefs, punycode
 * identifiers) and legacy (`_ZN...17h<16 hex>E`, Itanium-shaped with `$LT$`
 * style escapes, which __cxa_demangle would print with its hash).
 * Symbols come from files nobody vetted: every count is bounded (nesting
 * depth, parse steps, output bytes, punycode length), backrefs must point
 * strictly backwards, and anything malformed fails so that the caller shows
 * the name as it is. */
#include "sym_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RUST_MAX_DEPTH      300    /* nested paths/types/consts */
#define RUST_MAX_STEPS      200000 /* grammar productions per symbol */
#define RUST_MAX_PUNYCODE   256    /* code points of one identifier */

typedef struct rust_dm {
    const char *sym;      /* after the "_R" or "_ZN" prefix */
    size_t      len;      /* without a '.' suffix */
    size_t      pos;
    char       *out;
    size_t      cap, n;   /* n < cap always: room for the NUL */
    bool        verbose;  /* c++filt's form: hashes, disambiguators, const types */
    bool        legacy;
    bool        err;
    int         skip;     /* > 0: parse without printing */
    unsigned    depth;
    unsigned    steps;
    uint64_t    bound_lt; /* lifetimes bound by the binders entered */
} rust_dm;

typedef struct rust_ident {
    const char *ascii;    /* NULL when empty */
    size_t      ascii_len;
    const char *puny;     /* punycode deltas, NULL without */
    size_t      puny_len;
} rust_ident;

/* ---- reading ---- */

static char rd_peek(const rust_dm *d)
{
    return d->pos < d->len ? d->sym[d->pos] : '\0';
}

static bool rd_eat(rust_dm *d, char c)
{
    if (d->err || rd_peek(d) != c)
        return false;
    d->pos++;
    return true;
}

static char rd_next(rust_dm *d)
{
    char c = rd_peek(d);
    if (c == '\0')
        d->err = true;
    else
        d->pos++;
    return c;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

/* Entering a production: false (and the symbol fails) past the bounds. */
static bool rd_enter(rust_dm *d)
{
    if (d->err || ++d->depth > RUST_MAX_DEPTH || ++d->steps > RUST_MAX_STEPS) {
        d->err = true;
        return false;
    }
    return true;
}

static void rd_leave(rust_dm *d)
{
    d->depth--;
}

/* <base-62-number>: "_" is 0, else digits [0-9a-zA-Z] then "_", plus one. */
static uint64_t rd_int62(rust_dm *d)
{
    if (rd_eat(d, '_'))
        return 0;
    uint64_t x = 0;
    while (!d->err && !rd_eat(d, '_')) {
        char c = rd_next(d);
        unsigned v = is_digit(c) ? (unsigned)(c - '0')
                   : is_lower(c) ? 10u + (unsigned)(c - 'a')
                   : is_upper(c) ? 36u + (unsigned)(c - 'A') : 99u;
        if (v == 99u || x > (UINT64_MAX - v) / 62) {
            d->err = true;
            return 0;
        }
        x = x * 62 + v;
    }
    if (x == UINT64_MAX)
        d->err = true;
    return d->err ? 0 : x + 1;
}

/* An optional tagged number: 0 when absent, else the number plus one. */
static uint64_t rd_opt_int62(rust_dm *d, char tag)
{
    if (!rd_eat(d, tag))
        return 0;
    uint64_t x = rd_int62(d);
    if (x == UINT64_MAX)
        d->err = true;
    return d->err ? 0 : x + 1;
}

/* Lowercase hex nibbles up to "_"; returns how many, the value in *v
 * (its low 64 bits). */
static size_t rd_hex(rust_dm *d, uint64_t *v)
{
    size_t n = 0;
    *v = 0;
    while (!d->err && !rd_eat(d, '_')) {
        char c = rd_next(d);
        int x = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (x < 0) {
            d->err = true;
            return 0;
        }
        *v = *v << 4 | (uint64_t)x;
        n++;
    }
    return n;
}

/* <identifier>: [u] <decimal length> [_] <bytes>; with "u" the bytes are
 * ASCII, "_", punycode deltas (the ASCII part may be empty). */
static rust_ident rd_ident(rust_dm *d)
{
    rust_ident id = {0};
    bool puny = !d->legacy && rd_eat(d, 'u');
    char c = rd_next(d);
    if (!is_digit(c)) {
        d->err = true;
        return id;
    }
    size_t n = (size_t)(c - '0');
    while (c != '0' && is_digit(rd_peek(d))) {
        if (n > (SIZE_MAX - 9) / 10) {
            d->err = true;
            return id;
        }
        n = n * 10 + (size_t)(rd_next(d) - '0');
    }
    if (!d->legacy)
        rd_eat(d, '_');
    if (d->err || n > d->len - d->pos) {
        d->err = true;
        return id;
    }
    id.ascii = d->sym + d->pos;
    id.ascii_len = n;
    d->pos += n;
    if (puny) {
        size_t k = n;
        while (k > 0 && id.ascii[k - 1] != '_')
            k--;
        /* k: just past the last '_' (0 when none: all deltas) */
        id.puny = id.ascii + k;
        id.puny_len = n - k;
        id.ascii_len = k > 0 ? k - 1 : 0;
        if (id.puny_len == 0)
            d->err = true;
    }
    if (id.ascii_len == 0)
        id.ascii = NULL;
    return id;
}

/* ---- printing ---- */

static void put_n(rust_dm *d, const char *s, size_t n)
{
    if (d->err || d->skip > 0 || n == 0) /* an empty identifier has no bytes */
        return;
    if (n >= d->cap - d->n) {
        d->err = true; /* too long: better the mangled name than half */
        return;
    }
    memcpy(d->out + d->n, s, n);
    d->n += n;
    d->out[d->n] = '\0';
}

static void put(rust_dm *d, const char *s)
{
    put_n(d, s, strlen(s));
}

static void put_u64(rust_dm *d, uint64_t v, bool hex)
{
    char buf[24];
    snprintf(buf, sizeof buf, hex ? "%" PRIx64 : "%" PRIu64, v);
    put(d, buf);
}

static void put_utf8(rust_dm *d, uint32_t c)
{
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xc0 | c >> 6);
        b[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xe0 | c >> 12);
        b[1] = (char)(0x80 | (c >> 6 & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | c >> 18);
        b[1] = (char)(0x80 | (c >> 12 & 0x3f));
        b[2] = (char)(0x80 | (c >> 6 & 0x3f));
        b[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    put_n(d, b, n);
}

/* RFC 3492 bootstring with Rust's parameters (those of IDNA): deltas
 * insert code points into the ASCII part. Code points that cannot be in an
 * identifier (controls, surrogates, past U+10FFFF) fail the symbol. */
static void put_punycode(rust_dm *d, const rust_ident *id)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38 };
    uint32_t cp[RUST_MAX_PUNYCODE];
    size_t len = id->ascii_len;
    if (len > RUST_MAX_PUNYCODE) {
        d->err = true;
        return;
    }
    for (size_t i = 0; i < len; i++)
        cp[i] = (unsigned char)id->ascii[i];
    uint64_t n = 0x80, i = 0, bias = 72, damp = 700;
    size_t p = 0;
    while (p < id->puny_len) {
        uint64_t delta = 0, w = 1;
        for (uint64_t k = BASE;; k += BASE) {
            if (p >= id->puny_len) {
                d->err = true;
                return;
            }
            char c = id->puny[p++];
            uint64_t v = is_lower(c) ? (uint64_t)(c - 'a')
                       : is_digit(c) ? 26 + (uint64_t)(c - '0') : UINT64_MAX;
            uint64_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (v == UINT64_MAX || w > UINT32_MAX || v * w > UINT32_MAX - delta) {
                d->err = true;
                return;
            }
            delta += v * w;
            if (v < t)
                break;
            w *= BASE - t;
        }
        if (len >= RUST_MAX_PUNYCODE) {
            d->err = true;
            return;
        }
        len++;
        i += delta;
        n += i / len;
        i %= len;
        if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) || n < 0xa0) {
            d->err = true;
            return;
        }
        memmove(&cp[i + 1], &cp[i], (len - 1 - i) * sizeof *cp);
        cp[i++] = (uint32_t)n;
        /* bias adaptation */
        delta /= damp;
        damp = 2;
        delta += delta / len;
        uint64_t k = 0;
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + ((BASE - TMIN + 1) * delta) / (delta + SKEW);
    }
    for (size_t k = 0; k < len; k++)
        put_utf8(d, cp[k]);
}

/* A legacy "$..$" escape at s: the character, or 0 when it is none. */
static char legacy_escape(const char *s, size_t n, size_t *used)
{
    static const struct { const char *code; char c; } names[] = {
        {"$C$", ','}, {"$SP$", '@'}, {"$BP$", '*'}, {"$RF$", '&'},
        {"$LT$", '<'}, {"$GT$", '>'}, {"$LP$", '('}, {"$RP$", ')'},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t k = strlen(names[i].code);
        if (n >= k && memcmp(s, names[i].code, k) == 0) {
            *used = k;
            return names[i].c;
        }
    }
    /* $uXX$: a printable ASCII character, by its hex code */
    if (n >= 5 && s[1] == 'u' && s[4] == '$') {
        int hi = is_digit(s[2]) ? s[2] - '0' : -1;
        int lo = is_digit(s[3]) ? s[3] - '0' : (s[3] >= 'a' && s[3] <= 'f') ? s[3] - 'a' + 10 : -1;
        if (hi >= 2 && hi <= 7 && lo >= 0) {
            *used = 5;
            return (char)(hi << 4 | lo);
        }
    }
    return 0;
}

/* Legacy: "_$" starts escapes behind a leading underscore; ".." is "::";
 * an unknown escape ends the decoding (the rest is shown as it is). */
static void put_legacy_ident(rust_dm *d, const rust_ident *id)
{
    const char *s = id->ascii;
    size_t n = id->ascii_len;
    if (n >= 2 && s[0] == '_' && s[1] == '$') {
        s++;
        n--;
    }
    while (n > 0 && !d->err) {
        size_t used = 1;
        if (s[0] == '$') {
            char c = legacy_escape(s, n, &used);
            if (c == 0) {
                put_n(d, s, n);
                return;
            }
            put_n(d, &c, 1);
        } else if (s[0] == '.') {
            used = n >= 2 && s[1] == '.' ? 2 : 1;
            put(d, used == 2 ? "::" : ".");
        } else {
            while (used < n && s[used] != '$' && s[used] != '.')
                used++;
            put_n(d, s, used);
        }
        s += used;
        n -= used;
    }
}

static void put_ident(rust_dm *d, const rust_ident *id)
{
    if (d->err || d->skip > 0)
        return;
    if (d->legacy)
        put_legacy_ident(d, id);
    else if (id->puny != NULL)
        put_punycode(d, id);
    else
        put_n(d, id->ascii, id->ascii_len);
}

/* 'a, 'b, ... for lifetimes bound by enclosing binders, '_ for index 0. */
static void put_lifetime(rust_dm *d, uint64_t lt)
{
    put(d, "'");
    if (lt == 0) {
        put(d, "_");
        return;
    }
    if (lt > d->bound_lt) {
        d->err = true;
        return;
    }
    uint64_t depth = d->bound_lt - lt;
    if (depth < 26) {
        char c = (char)('a' + depth);
        put_n(d, &c, 1);
    } else {
        put(d, "_");
        put_u64(d, depth, false);
    }
}

/* ---- the v0 grammar ---- */

static void dm_path(rust_dm *d, bool in_value);
static void dm_type(rust_dm *d);
static void dm_const(rust_dm *d);

/* <backref> = "B" <base-62-number>: an earlier position of the symbol.
 * Strictly backwards, so a hostile symbol cannot loop; while not printing
 * there is nothing to gain from following it. Returns false when the
 * caller has nothing to do. */
static bool dm_backref_enter(rust_dm *d, size_t tag_pos, size_t *saved)
{
    uint64_t to = rd_int62(d);
    if (d->err || to >= tag_pos) {
        d->err = true;
        return false;
    }
    if (d->skip > 0)
        return false;
    *saved = d->pos;
    d->pos = (size_t)to;
    return true;
}

/* A backref to a type or a const: parsed where it points, then back. */
static void dm_backref(rust_dm *d, size_t tag_pos, void (*parse)(rust_dm *))
{
    size_t saved;
    if (dm_backref_enter(d, tag_pos, &saved)) {
        parse(d);
        d->pos = saved;
    }
}

static void dm_binder(rust_dm *d)
{
    uint64_t n = rd_opt_int62(d, 'G');
    if (n == 0 || d->err)
        return;
    if (n > RUST_MAX_DEPTH) { /* each prints; a huge count is hostile */
        d->err = true;
        return;
    }
    put(d, "for<");
    for (uint64_t i = 0; i < n && !d->err; i++) {
        if (i > 0)
            put(d, ", ");
        d->bound_lt++;
        put_lifetime(d, 1);
    }
    put(d, "> ");
}

static void dm_generic_arg(rust_dm *d)
{
    if (rd_eat(d, 'L'))
        put_lifetime(d, rd_int62(d));
    else if (rd_eat(d, 'K'))
        dm_const(d);
    else
        dm_type(d);
}

/* The arguments of a generic list up to its "E", comma separated. */
static void dm_generic_args(rust_dm *d)
{
    for (int i = 0; !d->err && !rd_eat(d, 'E'); i++) {
        if (i > 0)
            put(d, ", ");
        dm_generic_arg(d);
    }
}

static void dm_path_nested(rust_dm *d, bool in_value)
{
    char ns = rd_next(d);
    if (!is_lower(ns) && !is_upper(ns)) {
        d->err = true;
        return;
    }
    dm_path(d, in_value);
    uint64_t dis = rd_opt_int62(d, 's');
    rust_ident name = rd_ident(d);
    bool named = name.ascii != NULL || name.puny != NULL;
    if (is_lower(ns)) { /* an unspecified namespace: just the name */
        if (named) {
            put(d, "::");
            put_ident(d, &name);
        }
        return;
    }
    put(d, "::{");
    if (ns == 'C')
        put(d, "closure");
    else if (ns == 'S')
        put(d, "shim");
    else
        put_n(d, &ns, 1);
    if (named) {
        put(d, ":");
        put_ident(d, &name);
    }
    put(d, "#");
    put_u64(d, dis, false);
    put(d, "}");
}

/* impls: "M" <impl-path> <type> is <T>; "X" <impl-path> <type> <path> and
 * "Y" <type> <path> are <T as Trait>. The impl's own path is not shown. */
static void dm_path_impl(rust_dm *d, char tag, bool in_value)
{
    if (tag != 'Y') {
        rd_opt_int62(d, 's');
        d->skip++;
        dm_path(d, in_value);
        d->skip--;
    }
    put(d, "<");
    dm_type(d);
    if (tag != 'M') {
        put(d, " as ");
        dm_path(d, false);
    }
    put(d, ">");
}

/* <path>; in_value: a path in value position writes generics as ::<..>. */
static void dm_path(rust_dm *d, bool in_value)
{
    if (!rd_enter(d))
        return;
    size_t tag_pos = d->pos;
    char tag = rd_next(d);
    switch (tag) {
    case 'C': {
        uint64_t dis = rd_opt_int62(d, 's');
        rust_ident name = rd_ident(d);
        put_ident(d, &name);
        if (d->verbose) {
            put(d, "[");
            put_u64(d, dis, true);
            put(d, "]");
        }
        break;
    }
    case 'N':
        dm_path_nested(d, in_value);
        break;
    case 'M':
    case 'X':
    case 'Y':
        dm_path_impl(d, tag, in_value);
        break;
    case 'I':
        dm_path(d, in_value);
        put(d, in_value ? "::<" : "<");
        dm_generic_args(d);
        put(d, ">");
        break;
    case 'B': {
        size_t saved;
        if (dm_backref_enter(d, tag_pos, &saved)) {
            dm_path(d, in_value);
            d->pos = saved;
        }
        break;
    }
    default:
        d->err = true;
    }
    rd_leave(d);
}

static const char *basic_type(char tag)
{
    static const char *const names[26] = {
        ['a' - 'a'] = "i8",   ['b' - 'a'] = "bool", ['c' - 'a'] = "char",
        ['d' - 'a'] = "f64",  ['e' - 'a'] = "str",  ['f' - 'a'] = "f32",
        ['h' - 'a'] = "u8",   ['i' - 'a'] = "isize", ['j' - 'a'] = "usize",
        ['l' - 'a'] = "i32",  ['m' - 'a'] = "u32",  ['n' - 'a'] = "i128",
        ['o' - 'a'] = "u128", ['p' - 'a'] = "_",    ['s' - 'a'] = "i16",
        ['t' - 'a'] = "u16",  ['u' - 'a'] = "()",   ['v' - 'a'] = "...",
        ['x' - 'a'] = "i64",  ['y' - 'a'] = "u64",  ['z' - 'a'] = "!",
    };
    return is_lower(tag) ? names[tag - 'a'] : NULL;
}

/* A list of types up to "E", separated by `sep`; returns how many. */
static int dm_type_list(rust_dm *d, const char *sep)
{
    int i = 0;
    for (; !d->err && !rd_eat(d, 'E'); i++) {
        if (i > 0)
            put(d, sep);
        dm_type(d);
    }
    return i;
}

/* "F" [binder] ["U"] ["K" <abi>] {<type>} "E" <type>: a fn pointer. */
static void dm_fn_type(rust_dm *d)
{
    uint64_t outer = d->bound_lt;
    dm_binder(d);
    if (rd_eat(d, 'U'))
        put(d, "unsafe ");
    if (rd_eat(d, 'K')) {
        rust_ident abi = {.ascii = "C", .ascii_len = 1};
        if (!rd_eat(d, 'C')) {
            abi = rd_ident(d);
            if (abi.ascii == NULL || abi.puny != NULL)
                d->err = true;
        }
        put(d, "extern \"");
        /* the mangler wrote '-' in ABI names as '_' */
        for (size_t i = 0; !d->err && i < abi.ascii_len; i++)
            put_n(d, abi.ascii[i] == '_' ? "-" : &abi.ascii[i], 1);
        put(d, "\" ");
    }
    put(d, "fn(");
    dm_type_list(d, ", ");
    put(d, ")");
    if (!rd_eat(d, 'u')) {
        put(d, " -> ");
        dm_type(d);
    }
    d->bound_lt = outer;
}

/* A trait of a dyn type, with its associated-type bindings inside the
 * generics: dyn Iterator<Item = u8>. Returns whether "<" is still open. */
static bool dm_dyn_trait_path(rust_dm *d)
{
    if (!rd_enter(d))
        return false;
    bool open = false;
    size_t tag_pos = d->pos;
    size_t saved;
    if (rd_eat(d, 'B')) {
        if (dm_backref_enter(d, tag_pos, &saved)) {
            open = dm_dyn_trait_path(d);
            d->pos = saved;
        }
    } else if (rd_eat(d, 'I')) {
        dm_path(d, false);
        put(d, "<");
        open = true;
        dm_generic_args(d);
    } else {
        dm_path(d, false);
    }
    rd_leave(d);
    return open;
}

static void dm_dyn_type(rust_dm *d)
{
    put(d, "dyn ");
    uint64_t outer = d->bound_lt;
    dm_binder(d);
    for (int i = 0; !d->err && !rd_eat(d, 'E'); i++) {
        if (i > 0)
            put(d, " + ");
        bool open = dm_dyn_trait_path(d);
        while (!d->err && rd_eat(d, 'p')) {
            put(d, open ? ", " : "<");
            open = true;
            rust_ident name = rd_ident(d);
            put_ident(d, &name);
            put(d, " = ");
            dm_type(d);
        }
        if (open)
            put(d, ">");
    }
    d->bound_lt = outer;
    if (!rd_eat(d, 'L')) {
        d->err = true;
        return;
    }
    uint64_t lt = rd_int62(d);
    if (lt != 0) {
        put(d, " + ");
        put_lifetime(d, lt);
    }
}

static void dm_type_tagged(rust_dm *d, char tag, size_t tag_pos)
{
    switch (tag) {
    case 'R':
    case 'Q':
        put(d, "&");
        if (rd_eat(d, 'L')) {
            uint64_t lt = rd_int62(d);
            if (lt != 0) {
                put_lifetime(d, lt);
                put(d, " ");
            }
        }
        put(d, tag == 'Q' ? "mut " : "");
        dm_type(d);
        break;
    case 'P':
    case 'O':
        put(d, tag == 'P' ? "*const " : "*mut ");
        dm_type(d);
        break;
    case 'A':
    case 'S':
        put(d, "[");
        dm_type(d);
        if (tag == 'A') {
            put(d, "; ");
            dm_const(d);
        }
        put(d, "]");
        break;
    case 'T':
        put(d, "(");
        if (dm_type_list(d, ", ") == 1)
            put(d, ",");
        put(d, ")");
        break;
    case 'F':
        dm_fn_type(d);
        break;
    case 'D':
        dm_dyn_type(d);
        break;
    case 'B':
        dm_backref(d, tag_pos, dm_type);
        break;
    default:
        d->pos = tag_pos; /* a named type: a path */
        dm_path(d, false);
    }
}

static void dm_type(rust_dm *d)
{
    if (!rd_enter(d))
        return;
    size_t tag_pos = d->pos;
    char tag = rd_next(d);
    const char *basic = basic_type(tag);
    if (basic != NULL)
        put(d, basic);
    else if (!d->err)
        dm_type_tagged(d, tag, tag_pos);
    rd_leave(d);
}

static void dm_const_uint(rust_dm *d)
{
    uint64_t v;
    size_t start = d->pos;
    size_t n = rd_hex(d, &v);
    if (d->err || n == 0) {
        d->err = true;
    } else if (n > 16) { /* wider than 64 bits: the digits as they are */
        put(d, "0x");
        put_n(d, d->sym + start, n);
    } else {
        put_u64(d, v, false);
    }
}

/* A char constant as Rust's Debug would print it, ASCII only. */
static void dm_const_char(rust_dm *d)
{
    uint64_t v;
    size_t n = rd_hex(d, &v);
    if (d->err || n == 0 || n > 8) {
        d->err = true;
        return;
    }
    put(d, "'");
    if (v == '\t' || v == '\r' || v == '\n') {
        put(d, v == '\t' ? "\\t" : v == '\r' ? "\\r" : "\\n");
    } else if (v > ' ' && v < '~') {
        char c = (char)v;
        put_n(d, &c, 1);
    } else {
        put(d, "\\u{");
        put_u64(d, v, true);
        put(d, "}");
    }
    put(d, "'");
}

/* <const>: a placeholder, an integer, bool or char of a basic type (with
 * that type after ": " in the verbose form), or a backref. */
static void dm_const(rust_dm *d)
{
    if (!rd_enter(d))
        return;
    size_t tag_pos = d->pos;
    char tag = rd_next(d);
    uint64_t v;
    switch (tag) {
    case 'p':
        put(d, "_");
        break;
    case 'h': case 't': case 'm': case 'y': case 'o': case 'j':
        dm_const_uint(d);
        break;
    case 'a': case 's': case 'l': case 'x': case 'n': case 'i':
        if (rd_eat(d, 'n'))
            put(d, "-");
        dm_const_uint(d);
        break;
    case 'b':
        if (rd_hex(d, &v) != 1 || v > 1)
            d->err = true;
        put(d, v ? "true" : "false");
        break;
    case 'c':
        dm_const_char(d);
        break;
    case 'B':
        dm_backref(d, tag_pos, dm_const);
        break;
    default:
        d->err = true;
    }
    if (d->verbose && !d->err && tag != 'p' && tag != 'B') {
        put(d, ": ");
        put(d, basic_type(tag));
    }
    rd_leave(d);
}

/* ---- the two manglings ---- */

static bool is_alnum_(char c)
{
    return is_digit(c) || is_lower(c) || is_upper(c) || c == '_';
}

/* "_R" <path> [<instantiating-crate>], then an ignored "." suffix. */
static bool demangle_v0(rust_dm *d)
{
    if (!is_upper(d->sym[0]))
        return false;
    size_t n = 0;
    for (; d->sym[n] != '\0' && d->sym[n] != '.'; n++)
        if (!is_alnum_(d->sym[n]))
            return false;
    d->len = n;
    dm_path(d, true);
    if (!d->err && d->pos < d->len) { /* the crate that instantiated it */
        d->skip++;
        dm_path(d, false);
        d->skip--;
    }
    return !d->err && d->pos == d->len;
}

/* Whether the identifier is a legacy hash: "h" and 16 lowercase hex
 * digits, at least 5 of them distinct (what tells it from a name). */
static bool legacy_hash(const rust_ident *id)
{
    if (id->ascii_len != 17 || id->ascii[0] != 'h')
        return false;
    unsigned seen = 0;
    for (size_t i = 1; i < 17; i++) {
        char c = id->ascii[i];
        int x = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (x < 0)
            return false;
        seen |= 1u << x;
    }
    return __builtin_popcount(seen) >= 5;
}

/* "_ZN" {<len><ident>} "17h" <16 hex> "E", then an ignored "." suffix. */
static bool demangle_legacy(rust_dm *d)
{
    size_t n = 0;
    for (; d->sym[n] != '\0'; n++)
        if (!is_alnum_(d->sym[n]) && !strchr("$.:@", d->sym[n]))
            return false;
    /* the "E" that ends the path: the last one, or the last before a '.' */
    bool after_dot = true;
    while (n > 0 && !(after_dot && d->sym[n - 1] == 'E')) {
        after_dot = d->sym[n - 1] == '.';
        n--;
    }
    if (n < 21 || memcmp(d->sym + n - 20, "17h", 3) != 0)
        return false;
    d->len = n - 1;
    rust_ident id = {0};
    while (d->pos < d->len) {
        id = rd_ident(d);
        if (d->err || id.ascii == NULL)
            return false;
    }
    if (!legacy_hash(&id))
        return false;
    d->pos = 0;
    if (!d->verbose)
        d->len -= 19; /* hide the hash, as rustc's {:#} does */
    for (bool first = true; !d->err && d->pos < d->len; first = false) {
        if (!first)
            put(d, "::");
        id = rd_ident(d);
        put_ident(d, &id);
    }
    return !d->err;
}

int sym_rust_demangle(const char *name, char *out, size_t outlen, bool verbose)
{
    if (out == NULL || outlen == 0)
        return -1;
    out[0] = '\0';
    if (name == NULL || name[0] != '_')
        return -1;
    rust_dm d = {.out = out, .cap = outlen, .verbose = verbose};
    bool ok;
    if (name[1] == 'R') {
        d.sym = name + 2;
        ok = demangle_v0(&d);
    } else if (name[1] == 'Z' && name[2] == 'N') {
        d.sym = name + 3;
        d.legacy = true;
        ok = demangle_legacy(&d);
    } else {
        ok = false;
    }
    if (!ok) {
        out[0] = '\0';
        return -1;
    }
    return (int)d.n;
}
