/* snapgen.h: valid sample snapshots (binary and JSON) for the snapshot-file
 * tests, the corruption test and the fuzzer's seed corpus. */
#ifndef LEAKTOP_TEST_SNAPGEN_H
#define LEAKTOP_TEST_SNAPGEN_H

#include "diff.h"
#include "testlib.h"

/* A snapshot using every field: known and unknown frames, NULL strings,
 * inlined frames, a frameless trace, modules, label, pid, elapsed. */
static inline diff_snapshot *snapgen_rich(diff_loctab *lt, int variant)
{
    diff_snapshot *s = diff_snapshot_new(lt, 16);
    diff_frame fr[4] = {
        { .function = "fill", .file = "/src/a.c", .line = 11, .module = "/bin/a.out",
          .address = 0x401136, .offset = 0x1136 },
        { .function = "inl", .file = "/src/h.h", .line = 3, .module = "/bin/a.out",
          .address = 0x401200, .offset = 0x1200, .inlined = true },
        { .function = "ext\xc3\xa9", .module = "/lib/libx.so", .address = 0x7f0000000040, .offset = 0x40 },
        { .offset = 0xdead },
    };
    uint32_t id[4];
    for (int i = 0; i < 4; i++)
        id[i] = diff_loctab_intern(lt, &fr[i]);
    uint32_t t1[3] = { id[0], id[1], id[3] }, t2[2] = { id[2], id[1] };
    diff_snapshot_add(s, 5000 + variant, 20, t1, 3);
    diff_snapshot_add(s, 64, 1 + variant, t2, 2);
    diff_snapshot_add(s, 7, 1, NULL, 0);
    diff_snapshot_add(s, 0, 3, &id[3], 1);
    diff_snapshot_add_module(s, "/bin/a.out", "0123abcd", 0x400000);
    diff_snapshot_add_module(s, "/lib/libx.so", NULL, 0x7f0000000000);
    diff_snapshot_set_label(s, variant ? "after" : "base");
    diff_snapshot_set_meta(s, 4242, 1.25 * (variant + 1));
    return s;
}

static const char snapgen_json[] =
    "{\"frames_limit\": 8, \"label\": \"py\", \"pid\": 12, \"elapsed_s\": 0.5, \"extra\": [1, {\"x\": null}],\n"
    " \"traces\": [\n"
    "  {\"size\": 5000, \"count\": 2, \"frames\": [{\"file\": \"a.py\", \"line\": 5, \"function\": \"f\"},\n"
    "                                           {\"file\": \"b.py\", \"line\": 4, \"function\": null}]},\n"
    "  {\"size\": 66, \"frames\": [{\"file\": \"b.py\", \"line\": 1}]},\n"
    "  {\"size\": 7, \"count\": 1, \"frames\": [{\"file\": \"\\u00e9\\ud83d\\ude00\\t.py\", \"line\": 0, \"module\": \"m\", \"inlined\": true}]},\n"
    "  {\"size\": 1, \"frames\": []}\n"
    " ]}\n";

#endif
