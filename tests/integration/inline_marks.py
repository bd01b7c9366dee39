"""inline_marks: what fx_inline.c's `@frame N FUNCTION inlined|real` marks
say its 7777-byte allocation's frames must be, and those frames as a JSON
report row gives them, for the symbols tests to compare."""
import os
import re


def expected_frames(src):
    """[(function, real path, line, inlined)], innermost first."""
    want = {}
    for lineno, text in enumerate(open(src), 1):
        m = re.search(r"@frame (\d+) (\w+) (inlined|real)", text)
        if m:
            want[int(m.group(1))] = (m.group(2), os.path.realpath(src), lineno, m.group(3) == "inlined")
    return [want[i] for i in sorted(want)]


def frames_of(r, n):
    """The first n frames of a report row, in expected_frames' shape."""
    if not r:
        return None
    return [(f["function"], os.path.realpath(f["file"]) if f["file"] else None, f["line"], f["inlined"])
            for f in r["frames"][:n]]
