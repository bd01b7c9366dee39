#!/usr/bin/env python3
"""Reads every #include "..." line of the project's C sources and fails when
(1) the files include one another in a circle, or (2) a file in tui/ outside
the watch library (tui/watch/) includes the shared-memory layout lt_shm.h.

A module is a source file and its header (tui/view_keys.c + view_keys.h):
module A depends on module B when A's .c or .h includes B's header. A
circle of modules means two parts call each other, whatever the include
guards allow. Usage: check_includes.py SOURCE_DIR"""
import os
import re
import sys

ROOTS = ("tracer", "symbols", "diff", "tui")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(top):
    for root in ROOTS:
        for d, _, files in os.walk(os.path.join(top, root)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), top)


def module(path):
    return os.path.splitext(path)[0]


def resolve(name, including, headers):
    """The project header an include names: next to the includer first,
    then anywhere in the project by file name (the build's include dirs)."""
    near = os.path.normpath(os.path.join(os.path.dirname(including), name))
    if near in headers:
        return near
    found = [h for h in headers if os.path.basename(h) == os.path.basename(name)]
    return found[0] if len(found) == 1 else None


def graph(top, files):
    headers = {f for f in files if f.endswith(".h")}
    edges, includes = {}, {}
    for f in files:
        with open(os.path.join(top, f), encoding="utf-8", errors="replace") as fh:
            names = INCLUDE.findall(fh.read())
        includes[f] = names
        for n in names:
            h = resolve(n, f, headers)
            if h and module(h) != module(f):
                edges.setdefault(module(f), set()).add(module(h))
    return edges, includes


def find_cycle(edges):
    """One circle of modules, or None (iterative DFS, white/grey/black)."""
    state, stack = {}, []
    for start in sorted(edges):
        if state.get(start):
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        state[start] = 1
        stack.append(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                work.pop()
            elif state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append(nxt)
                work.append((nxt, iter(sorted(edges.get(nxt, ())))))
    return None


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    files = list(sources(top))
    if not any(f.startswith("tui/") for f in files):
        print(f"check_includes: no sources under {top}", file=sys.stderr)
        return 1
    edges, includes = graph(top, files)
    bad = 0
    cycle = find_cycle(edges)
    if cycle:
        print("include cycle: " + " -> ".join(cycle))
        bad = 1
    for f, names in sorted(includes.items()):
        if f.startswith("tui/") and not f.startswith("tui/watch/") and \
                any(os.path.basename(n) == "lt_shm.h" for n in names):
            print(f"{f} includes lt_shm.h: only tui/watch/ may read the segment layout")
            bad = 1
    nedges = sum(len(v) for v in edges.values())
    print(f"check_includes: {len(files)} files, {len(edges)} modules with {nedges} edges: "
          + ("FAILED" if bad else "no cycle, lt_shm.h only in tui/watch/"))
    return bad


if __name__ == "__main__":
    sys.exit(main())
