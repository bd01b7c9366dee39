"""symtool_run: what the Python tests of symbols/ share to drive sym_tool:
its frames per address, and a file's GNU build-id."""
import subprocess
import time


def resolve(tool, binary, addrs, extra=(), env=None, timeout=300):
    """[[(function, file, line, inlined)] per address], stderr, seconds."""
    text = ''.join('0x%x\n' % a for a in addrs)
    t0 = time.monotonic()
    p = subprocess.run([tool, '-a', '-e'] + list(extra) + [binary], input=text,
                       capture_output=True, text=True, timeout=timeout, env=env)
    took = time.monotonic() - t0
    res, cur = [], None
    for line in p.stdout.splitlines():
        if line.startswith('0x'):
            cur = []
            res.append(cur)
            continue
        cur.append(tuple(line.split('\t')))
    return res, p.stderr, took


def build_id(path):
    out = subprocess.run(['readelf', '-n', path], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if 'Build ID:' in line:
            return line.split()[-1]
    return None
