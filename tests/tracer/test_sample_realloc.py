"""realloc and reallocarray in sampling mode pass untraced when neither
block is sampled (the old one's filter bucket is empty, the countdown
passes over the new size); everything else takes the full path. Run at
1 KiB on fx_sample_realloc, where blocks of 64 KiB are sampled for sure
with weight 1, so the figures are known exactly but for the 16-byte
blocks the countdown picks, each of which weighs w16 = round(16/p16)
bytes: a row of those is k * w16 with 0 <= k <= its blocks. A sampled
block realloc'd through the skip path would stay in the table (64 KiB
left in `shrink` or `zero`, more than 64 blocks in `grow`); a countdown
drawn twice for one block would pick about twice the expected number of
small blocks.

Usage: test_sample_realloc.py LEAKTOP TRACER_BIN_DIR FIXTURE_DIR"""
import math
import os

from segtest import check, exit_report, finish, fx, rows_by_function, run, leaktop

EVERY = 1024
BIG, SMALL = 64 << 10, 16
SEEDS = range(1, 13)


def weight_bytes(size):
    """The tracer's own rounding (sample.c, lt_sample_weight)."""
    w = -1.0 / math.expm1(-max(size, 1) / EVERY)
    return int(size * w + 0.5)


def traced(sample=None, seed=None):
    env = dict(os.environ)
    env.pop("LEAKTOP_SAMPLE", None)
    if seed is not None:
        env["LEAKTOP_SEED"] = str(seed)
    argv = [leaktop, "run", "--batch", "--json"] + (["--sample", sample] if sample else [])
    p = run(argv + ["--", fx("fx_sample_realloc")], env=env)
    rep = exit_report(p)
    ok = check(f"fx_sample_realloc sample={sample} seed={seed} ran right and reported",
               p.returncode == 0 and rep is not None, f"status {p.returncode}: {p.stderr[-400:]}")
    return rows_by_function(rep) if ok else None


# Exact mode: the truth.
rows = traced()
if rows is not None:
    want = {"grow": (64 * BIG, 64), "shrink": (100 * SMALL, 100), "keep": (20 * BIG + 100 * SMALL, 120),
            "fresh_blocks": (100 * SMALL, 100)}
    for fn, figures in want.items():
        check(f"exact: {fn} is {figures}", rows.get(fn) == figures, rows.get(fn))
    for fn in ("zero", "churn"):
        check(f"exact: {fn} leaves nothing", fn not in rows, rows.get(fn))

# Sampled: BIG blocks exact, SMALL ones k * w16.
w16 = weight_bytes(SMALL)
check("a 64 KiB block weighs exactly its size at 1 KiB", weight_bytes(BIG) == BIG, weight_bytes(BIG))
picked = 0
for seed in SEEDS:
    rows = traced(f"{EVERY // 1024}K", seed)
    if rows is None:
        break
    check(f"seed {seed}: grow is 64 blocks of 64 KiB, exactly", rows.get("grow") == (64 * BIG, 64),
          rows.get("grow"))
    for fn in ("zero", "churn"):
        check(f"seed {seed}: {fn} leaves nothing", fn not in rows, rows.get(fn))
    for fn, base, blocks in (("shrink", 0, 100), ("keep", 20 * BIG, 100), ("fresh_blocks", 0, 100)):
        size = rows.get(fn, (0, 0))[0] - base
        k = size // w16
        check(f"seed {seed}: {fn} is {base} B and whole 16-byte samples of {w16} B",
              size >= 0 and size % w16 == 0 and k <= blocks, f"{rows.get(fn)}")
        picked += max(k, 0)

# Each 16-byte block is picked with p16 = 1 - exp(-16/1024): the count is
# a sum of independent Bernoullis; 5 standard deviations (by Chebyshev a
# miss is at most a 1/25 chance whatever the law; near normal, 6e-7).
n = 300 * len(SEEDS)
p16 = -math.expm1(-SMALL / EVERY)
mean, sd = n * p16, math.sqrt(n * p16 * (1 - p16))
check(f"small blocks picked {picked} times, expected {mean:.1f} +- {5 * sd:.1f}", abs(picked - mean) <= 5 * sd)

finish()
