"""Sampling mode (LEAKTOP_SAMPLE / --sample): the estimates are unbiased
and spread as the sampling scheme says, for small blocks, blocks of mixed
sizes at one call site, huge blocks and realloc'd blocks; churn that nets
to zero shows nothing; a fixed seed reproduces a run and lands within a
tolerance derived from the fixture's block sizes, not picked.

The scheme: block i of s_i bytes is sampled with probability
p_i = 1 - exp(-t_i/B) (t_i = max(s_i, 1)), independently of the others,
and then counts s_i/p_i bytes and 1/p_i blocks. So an estimate X of a set
of live blocks is a sum of independent terms a_i*I_i (I_i ~ Bernoulli(p_i),
a_i = s_i/p_i for bytes, 1/p_i for blocks) with
    E[X]   = sum a_i p_i = the exact figure T,
    Var[X] = sum a_i^2 p_i (1 - p_i),
and the fourth cumulant sum a_i^4 p_i (1-p_i) (1 - 6 p_i (1-p_i)). For
blocks much smaller than B, p_i ~ s_i/B, so X ~ B * (number of samples)
and its relative spread is 1/sqrt(expected samples).

Usage: test_sampling.py LEAKTOP TRACER_BIN_DIR FIXTURE_DIR"""
import glob
import math
import os
import statistics
import subprocess
import tempfile
import time

from segtest import check, finish, fx, reports, rows_by_function, run, leaktop

KIB = 1024
SEEDS = 200         # runs over distinct seeds
EVERY = 64 * KIB    # interval of the many-seeds runs: ~20 samples of the small leak

# The fixture's live blocks at exit, by the function that allocated them.
LEAKS = {
    "leak_small": [64] * 20000,
    "leak_mixed": [16 << (i % 10) for i in range(4000)],
    "leak_huge": [4 << 20] * 4,
    "leak_grown": [10000] * 100,
}


def moments(sizes, every, of_bytes):
    """(T, variance, fourth cumulant) of the estimate of these blocks."""
    t = var = k4 = 0.0
    for s in sizes:
        p = -math.expm1(-max(s, 1) / every)
        a = (s if of_bytes else 1) / p
        q = p * (1 - p)
        t += s if of_bytes else 1
        var += a * a * q
        k4 += a ** 4 * q * (1 - 6 * q)
    return t, var, k4


def traced(sample=None, seed=None, env_sample=None, extra=()):
    env = dict(os.environ)
    env.pop("LEAKTOP_SAMPLE", None)
    if env_sample:
        env["LEAKTOP_SAMPLE"] = env_sample
    if seed is not None:
        env["LEAKTOP_SEED"] = str(seed)
    argv = [leaktop, "run", "--batch", "--json", *extra]
    if sample:
        argv += ["--sample", sample]
    p = run(argv + ["--", fx("fx_sample")], env=env)
    reps = [r for r in reports(p) if r["reason"] == "exit"]
    if not check(f"run sample={sample} seed={seed} reported", p.returncode == 0 and reps,
                 f"status {p.returncode}: {p.stderr[-500:]}"):
        return None, {}
    return reps[-1], rows_by_function(reps[-1])


# Exact mode: the truth the estimates are measured against.
rep, rows = traced()
for fn, sizes in LEAKS.items():
    check(f"exact {fn} is {sum(sizes)} B in {len(sizes)} blocks",
          rows.get(fn) == (sum(sizes), len(sizes)), rows.get(fn))
check("exact: churn nets to zero", "churn" not in rows, rows.get("churn"))
check("exact report is not marked sampled", rep is not None and "sampled" not in rep, rep and rep.get("sampled"))

# Many seeds: mean error ~ 0 (within 4 standard errors of the mean) and the
# measured spread matches the derived one. The spread's own standard error,
# for N runs of an estimate with excess kurtosis g, is about
# sigma/2 * sqrt(2/(N-1) + g/N) (the variance of a sample variance); we
# allow 4 of those. Rounding: a sampled block's bytes are rounded to a
# byte (<= 0.5 each) and a trace's count to a block (<= 0.5 per row).
runs = {fn: [] for fn in LEAKS}
counts = {fn: [] for fn in LEAKS}
churn_seen = 0
for seed in range(1, SEEDS + 1):
    rep, rows = traced(f"{EVERY // KIB}K", seed)
    if rep is None:
        break
    if seed == 1:
        check("sampled report says so", rep.get("sampled") is True and rep.get("sample_bytes") == EVERY,
              {k: rep.get(k) for k in ("sampled", "sample_bytes")})
    churn_seen += "churn" in rows
    for fn in LEAKS:
        size, count = rows.get(fn, (0, 0))
        runs[fn].append(size)
        counts[fn].append(count)
check("churn that nets to zero is never shown", churn_seen == 0, f"in {churn_seen} runs")

n = len(runs["leak_small"])
for fn, sizes in LEAKS.items():
    for what, values, of_bytes in (("bytes", runs[fn], True), ("blocks", counts[fn], False)):
        t, var, k4 = moments(sizes, EVERY, of_bytes)
        sigma = math.sqrt(var)
        rounding = 0.5 * len(sizes) if of_bytes else 0.5
        mean = statistics.fmean(values) if values else float("nan")
        sem = sigma / math.sqrt(n)
        print(f"{fn} {what}: exact {t:.0f}, mean of {n} estimates {mean:.0f} "
              f"(error {mean - t:+.0f}, {((mean - t) / sem) if sem else 0:+.2f} standard errors), "
              f"derived spread {sigma:.0f} ({sigma / t:.3f} of exact)")
        check(f"{fn} {what}: mean estimate within 4 standard errors of exact",
              abs(mean - t) <= 4 * sem + rounding, f"mean {mean:.0f} vs {t:.0f}, sem {sem:.0f}")
        if sigma < 0.01 * t:
            continue  # huge blocks: sampled for sure, weight 1; nothing to spread
        sd = statistics.stdev(values)
        excess = k4 / var ** 2
        se_sd = sigma / 2 * math.sqrt(2 / (n - 1) + max(excess, 0) / n)
        print(f"    measured spread {sd:.0f} vs derived {sigma:.0f} (allowed +-{4 * se_sd:.0f})")
        check(f"{fn} {what}: spread matches the derived one", abs(sd - sigma) <= 4 * se_sd,
              f"measured {sd:.0f}, derived {sigma:.0f}")

# Small blocks: relative spread = 1/sqrt(expected samples), the rule of
# thumb users are told (here ~20 samples: ~22%).
t, var, _ = moments(LEAKS["leak_small"], EVERY, True)
samples = sum(-math.expm1(-64 / EVERY) for _ in LEAKS["leak_small"])
check("small blocks: spread is 1/sqrt(expected samples)",
      abs(math.sqrt(var) / t - 1 / math.sqrt(samples)) < 0.01 / math.sqrt(samples),
      f"{math.sqrt(var) / t:.4f} vs {1 / math.sqrt(samples):.4f}")

# A fixed seed: reproducible, and within 5 derived standard deviations
# (plus rounding) of exact. Why 5: by Chebyshev a miss has probability at
# most 1/25 whatever the distribution; the estimates here are sums of
# ~20 or more independent samples (the huge blocks: certain), close to
# normal, where 5 sigma is a 6e-7 chance: a PRNG change will not make this
# fail by bad luck, a bias or a wrong weight will.
SEED = 42
rep_a, rows_a = traced(f"{EVERY // KIB}K", SEED)
rep_b, rows_b = traced(f"{EVERY // KIB}K", SEED)
check("a fixed seed reproduces the run", rows_a == rows_b and rows_a, (rows_a, rows_b))
for fn, sizes in LEAKS.items():
    t, var, _ = moments(sizes, EVERY, True)
    got = rows_a.get(fn, (0, 0))[0]
    tol = 5 * math.sqrt(var) + 0.5 * len(sizes)
    check(f"seed {SEED}: {fn} estimate {got} within {tol:.0f} of {t:.0f}", abs(got - t) <= tol)

# The ways in: --sample takes K/M/G, a plain preload LEAKTOP_SAMPLE too;
# nonsense is refused (the option) or said and replaced (the variable).
rep, _ = traced(env_sample="64KiB")
check("LEAKTOP_SAMPLE=64KiB samples every 65536 bytes", rep and rep.get("sample_bytes") == 65536,
      rep and rep.get("sample_bytes"))
rep, _ = traced(sample="1M")
check("--sample 1M samples every 1048576 bytes", rep and rep.get("sample_bytes") == 1 << 20,
      rep and rep.get("sample_bytes"))
p = run([leaktop, "run", "--sample", "12Q", "--", "true"])
check("--sample 12Q refused in one line, status 2",
      p.returncode == 2 and "--sample" in p.stderr and p.stderr.count("\n") == 1, (p.returncode, p.stderr))
p = run([leaktop, "diff", "--sample", "1K", "a", "b"])
check("--sample is refused where it means nothing (diff)", p.returncode == 2 and "--sample" in p.stderr,
      (p.returncode, p.stderr))
env = dict(os.environ, LEAKTOP_SAMPLE="64X")
p = run([leaktop, "run", "--batch", "--json", "--", fx("fx_sample")], env=env)
check("LEAKTOP_SAMPLE=64X is said and exact mode used",
      "LEAKTOP_SAMPLE=64X is not a number: using 0" in p.stderr and '"sampled"' not in p.stdout, p.stderr)

# Calls the countdown passes over skip the hook's usual exit, where mark
# requests are taken: they look at them too, so `leaktop mark PID` on a
# sampled program whose blocks are never sampled is still taken at once,
# whether it mallocs, frees or reallocs (each skip path looks).
for mode in ("malloc", "frees", "reallocs"):
    with tempfile.TemporaryDirectory() as tmp:
        pidfile = os.path.join(tmp, "pid")
        lt = subprocess.Popen([leaktop, "run", "--batch", "--json", "--sample", "512K", "--",
                               fx("fx_slow"), pidfile, "3"] + ([mode] if mode != "malloc" else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (os.path.exists(pidfile) and open(pidfile).read().endswith("\n")):
            time.sleep(0.01)
        time.sleep(0.2)  # its tracer is up: the file is written after its first calls
        t0 = time.monotonic()
        p = run([leaktop, "mark", open(pidfile).read().strip(), "asked"])
        took = time.monotonic() - t0
        out, err = lt.communicate(timeout=30)
        labels = [r["label"] for r in reports(subprocess.CompletedProcess([], 0, out, err)) if r["reason"] == "mark"]
        check(f"a mark asked of a sampled program that {mode} is taken within half a second",
              p.returncode == 0 and took < 0.5 and labels == ["asked"], (p.returncode, took, p.stderr, labels))

# Snapshot files keep the interval; a sampled one and an exact one are
# not compared (their figures do not mean the same thing), nor two
# intervals.
with tempfile.TemporaryDirectory() as tmp:
    files = {}
    for name, sample in (("exact", None), ("s64", "64K"), ("s512", "512K")):
        os.mkdir(os.path.join(tmp, name))
        traced(sample, seed=7, extra=("--save", os.path.join(tmp, name)))
        found = glob.glob(os.path.join(tmp, name, "*.ltsnap"))
        check(f"--save wrote the {name} snapshot", len(found) == 1, found)
        files[name] = found[0] if found else "missing"
    p = run([leaktop, "show", "--json", files["s64"]])
    shown = reports(p)
    check("a saved sampled snapshot still says sampled",
          shown and shown[0].get("sampled") is True and shown[0].get("sample_bytes") == 65536, p.stdout[:300])
    for old, new, why in (("exact", "s64", "a sampled snapshot (estimates) with an exact one"),
                          ("s64", "s512", "snapshots sampled at different intervals")):
        p = run([leaktop, "diff", files[old], files[new]])
        check(f"diff {old} {new} refused in one line", p.returncode != 0 and why in p.stderr
              and p.stderr.count("\n") == 1 and not p.stdout, (p.returncode, p.stderr))
    p = run([leaktop, "diff", files["s64"], files["s64"]])
    check("diff of two snapshots at one interval works", p.returncode == 0 and "estimates" in p.stdout,
          (p.returncode, p.stderr))

finish()
