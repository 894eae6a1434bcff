#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cross-builds the SBM firmware for QEMU's mps2-an386 (called by
firmware/meson.build; see docs/qemu.md).

  build-firmware.py mbedtls --cc CC --source MBEDTLS_DIR --config HEADER -o libmbedcrypto.a
  build-firmware.py elf --cc CC --source MBEDTLS_DIR --config HEADER --lib libmbedcrypto.a
                    --ld SCRIPT -o OUT.elf SOURCE.c... -I DIR...

One compiler at a time: the machines this runs on are shared."""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

CFLAGS = ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=soft', '-Os', '-g', '-std=c11', '-ffunction-sections',
          '-fdata-sections', '-Wall', '-Wno-unused-parameter']


def run(cmd):
    result = subprocess.run(cmd)
    if result.returncode != 0:
        sys.exit('build-firmware: failed: ' + ' '.join(cmd))


def mbedtls_flags(args):
    config = os.path.abspath(args.config)
    return ['-I', os.path.join(args.source, 'include'), '-I', os.path.dirname(config),
            '-DMBEDTLS_CONFIG_FILE="%s"' % os.path.basename(config)]


def build_mbedtls(args):
    library = os.path.join(args.source, 'library')
    ar = args.cc[:-len('gcc')] + 'ar' if args.cc.endswith('gcc') else 'arm-none-eabi-ar'
    with tempfile.TemporaryDirectory() as tmp:
        objects = []
        for name in sorted(os.listdir(library)):
            if not name.endswith('.c'):
                continue
            obj = os.path.join(tmp, name[:-2] + '.o')
            run([args.cc] + CFLAGS + mbedtls_flags(args) + ['-I', library, '-c', os.path.join(library, name),
                                                            '-o', obj])
            objects.append(obj)
        if os.path.exists(args.output):
            os.unlink(args.output)
        run([ar, 'rcs', args.output] + objects)


def build_elf(args):
    includes = []
    for d in args.include:
        includes += ['-I', d]
    with tempfile.TemporaryDirectory() as tmp:
        objects = []
        for src in args.sources:
            obj = os.path.join(tmp, os.path.basename(src)[:-2] + '.o')
            run([args.cc] + CFLAGS + ['-Wextra', '-Werror'] + mbedtls_flags(args) + includes +
                ['-c', src, '-o', obj])
            objects.append(obj)
        run([args.cc] + CFLAGS + ['-nostartfiles', '--specs=nano.specs', '--specs=nosys.specs',
                                  '-Wl,--gc-sections', '-T', args.ld, '-Wl,-Map=' + args.output + '.map',
                                  '-o', args.output] + objects + [args.lib, '-lc', '-lgcc'])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('what', choices=['mbedtls', 'elf'])
    parser.add_argument('--cc', required=True)
    parser.add_argument('--source', required=True)
    parser.add_argument('--config', required=True)
    parser.add_argument('--lib')
    parser.add_argument('--ld')
    parser.add_argument('-I', dest='include', action='append', default=[])
    parser.add_argument('-o', dest='output', required=True)
    parser.add_argument('sources', nargs='*')
    args = parser.parse_intermixed_args()
    if args.what == 'mbedtls':
        build_mbedtls(args)
    else:
        build_elf(args)


if __name__ == '__main__':
    main()
