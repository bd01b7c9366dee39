"""bench_python: an allocation-heavy CPython workload for bench.py, run with
PYTHONMALLOC=malloc so every object is a malloc: records built as dicts,
dumped to JSON and parsed back, matched with a regular expression and
indexed, ~2 million blocks live at the peak. Argument: records (200000)."""
import json
import re
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
name = re.compile(r"([a-z]+)(\d+)$")
rows = [{"id": i, "name": "user%d" % i, "tags": ["t%d" % (i % 97), "x%d" % (i % 13)], "score": i * 0.5}
        for i in range(n)]
text = json.dumps(rows)
back = json.loads(text)
index = {}
for r in back:
    m = name.match(r["name"])
    index.setdefault(m.group(1), []).append((int(m.group(2)), r["tags"][0]))
del rows
total = sum(len(v) for v in index.values())
back.sort(key=lambda r: r["tags"][1])
print("bench_python:", n, "records,", total, "indexed,", len(text), "bytes of JSON")
