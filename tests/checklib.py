"""checklib: the one check() helper the Python tests share. Each check
prints `ok   NAME` or `FAIL NAME: DETAIL` and the test goes on; finish()
prints the count and gives the exit status.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from checklib import check, finish
"""
import sys

failures = []


def check(name, cond, detail=""):
    """Records one check; returns cond so callers can stop early."""
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f": {detail}"))
    sys.stdout.flush()
    if not cond:
        failures.append(name)
    return bool(cond)


def finish():
    """Prints the outcome; the exit status for sys.exit."""
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0
