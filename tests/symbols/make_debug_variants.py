#!/usr/bin/env python3
"""Makes copies of a fixture binary whose debug info lives elsewhere, the
ways distributions ship it, for the symbols tests:

  OUT/debuglink/NAME        --strip-debug + .gnu_debuglink=NAME.debug,
  OUT/debuglink/NAME.debug    the debug file beside it
  OUT/dotdebug/NAME         the same, the debug file in .debug/ beside it
  OUT/dotdebug/.debug/NAME.debug
  OUT/badcrc/NAME           a debuglink whose file has the wrong CRC
  OUT/badcrc/NAME.debug
  OUT/buildid/NAME          --strip-debug, no debuglink: found only by
  OUT/debugroot/.build-id/xx/rest.debug   build-id under an extra debug dir
  OUT/stripped/NAME         strip -s: no .symtab, no DWARF (.dynsym only)

usage: make_debug_variants.py BINARY OUTDIR STAMP
"""
import os
import shutil
import subprocess
import sys


def run(*cmd):
    subprocess.run(cmd, check=True)


def build_id(path):
    out = subprocess.run(['readelf', '-n', path], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if 'Build ID:' in line:
            return line.split('Build ID:')[1].strip()
    raise SystemExit('%s has no build-id' % path)


def split(binary, outdir, debug_path, link):
    """Stripped-debug copy in outdir, debug info in debug_path."""
    name = os.path.basename(binary)
    os.makedirs(outdir, exist_ok=True)
    os.makedirs(os.path.dirname(debug_path), exist_ok=True)
    dst = os.path.join(outdir, name)
    run('objcopy', '--only-keep-debug', binary, debug_path)
    if link:
        # objcopy computes the CRC from the file given; the link records
        # only its base name.
        run('objcopy', '--strip-debug', '--add-gnu-debuglink=' + debug_path,
            binary, dst)
    else:
        run('objcopy', '--strip-debug', binary, dst)
    return dst


def main():
    binary, out, stamp = sys.argv[1:4]
    name = os.path.basename(binary)
    if os.path.isdir(out):
        shutil.rmtree(out)
    split(binary, os.path.join(out, 'debuglink'),
          os.path.join(out, 'debuglink', name + '.debug'), True)
    split(binary, os.path.join(out, 'dotdebug'),
          os.path.join(out, 'dotdebug', '.debug', name + '.debug'), True)
    bad = split(binary, os.path.join(out, 'badcrc'),
                os.path.join(out, 'badcrc', name + '.debug'), True)
    with open(bad + '.debug', 'ab') as f:
        f.write(b'\0')  # changes the CRC, keeps the ELF readable
    bid = build_id(binary)
    split(binary, os.path.join(out, 'buildid'),
          os.path.join(out, 'debugroot', '.build-id', bid[:2],
                       bid[2:] + '.debug'), False)
    os.makedirs(os.path.join(out, 'stripped'), exist_ok=True)
    run('strip', '-s', '-o', os.path.join(out, 'stripped', name), binary)
    with open(stamp, 'w') as f:
        f.write(bid + '\n')


if __name__ == '__main__':
    main()
