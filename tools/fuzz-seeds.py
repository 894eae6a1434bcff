#!/usr/bin/env python3
# The binary seeds of the fuzz harnesses, built byte by byte (called by
# tools/make-fuzz-seeds; deterministic). Each format is described in the
# harness that reads it (fuzz/fuzz-*.c) and in docs/.
import os
import struct
import sys

data = sys.argv[1]


def write(target, name, content):
    d = os.path.join(data, "fuzz-" + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(content)


# ---- Intel HEX ----
def ihex_record(rtype, address, payload):
    body = bytes([len(payload), address >> 8 & 0xff, address & 0xff, rtype]) + payload
    return b":" + (body + bytes([-sum(body) & 0xff])).hex().upper().encode() + b"\n"


write("ihex", "segments.hex",
      ihex_record(4, 0, b"\x08\x00") + ihex_record(0, 0x8000, bytes(range(16)))
      + ihex_record(0, 0x8010, bytes(range(16, 32))) + ihex_record(2, 0, b"\x10\x00")
      + ihex_record(0, 0x0000, b"\xaa" * 8) + ihex_record(5, 0, b"\x08\x00\x80\x01")
      + ihex_record(1, 0, b""))
write("ihex", "start-segment.hex",
      ihex_record(0, 0x0100, b"\x01\x02\x03\x04") + ihex_record(3, 0, b"\x00\x00\x01\x00")
      + ihex_record(1, 0, b""))


# ---- S-records ----
def srec(rtype, address, payload):
    alen = {0: 2, 1: 2, 2: 3, 3: 4, 5: 2, 6: 3, 7: 4, 8: 3, 9: 2}[rtype]
    body = bytes([alen + len(payload) + 1]) + address.to_bytes(alen, "big") + payload
    return b"S%d" % rtype + (body + bytes([~sum(body) & 0xff])).hex().upper().encode() + b"\n"


write("srec", "s2.srec",
      srec(0, 0, b"fuzz") + srec(2, 0x08000, bytes(range(32))) + srec(2, 0x08020, b"\x55" * 16)
      + srec(5, 2, b"") + srec(8, 0x08000, b""))
write("srec", "s3-s6.srec",
      srec(3, 0x08008000, bytes(range(64, 96))) + srec(6, 1, b"") + srec(7, 0x08008001, b""))


# ---- ELF ----
def elf32(segments, entry):
    phoff = 52
    offset = phoff + 32 * len(segments)
    phdrs = b""
    blobs = b""
    for vaddr, paddr, payload, memsz in segments:
        phdrs += struct.pack("<IIIIIIII", 1, offset + len(blobs), vaddr, paddr, len(payload), memsz, 5, 4)
        blobs += payload
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, entry, phoff, 0, 0x05000200, 52, 32,
                                 len(segments), 40, 0, 0)
    return header + phdrs + blobs


def elf64(segments, entry):
    phoff = 64
    offset = phoff + 56 * len(segments)
    phdrs = b""
    blobs = b""
    for vaddr, paddr, payload, memsz in segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, 5, offset + len(blobs), vaddr, paddr, len(payload), memsz, 8)
        blobs += payload
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, entry, phoff, 0, 0, 64, 56, len(segments), 64, 0, 0)
    return header + phdrs + blobs


write("elf", "arm32.elf", elf32([(0x08008000, 0x08008000, bytes(range(48)), 48),
                                 (0x20000000, 0x08008030, b"\x11" * 16, 32)], 0x08008001))
write("elf", "aarch64.elf", elf64([(0x40000000, 0x40000000, bytes(range(40)), 40)], 0x40000000))

# ---- receipts (fuzz/fuzz-receipt.c: a mode byte, then the receipt or its signed part) ----
uid = bytes.fromhex("00112233445566778899aabbccddeeff")
install = bytes([len(uid)]) + uid + bytes(range(16)) + bytes(32) + struct.pack(">I", 2) + b"\x051.2.3"
status = bytes(range(32)) + bytes([len(uid)]) + uid + bytes(32) + struct.pack(">I", 2) + b"\x051.2.3"
write("receipt", "install-signed", b"\x01" + install)
write("receipt", "status-signed", b"\x03" + status)
write("receipt", "install-bad-signature", b"\x00" + install + b"\x00\x08\x30\x06\x02\x01\x01\x02\x01\x01")

# ---- SBM sessions (fuzz/fuzz-sbm.c: flags, then [op, len16 LE, bytes]…) ----
FLASH_BASE = 0x08000000
PAGE = 1024
APP = 32 * 1024
SLOT = (128 * 1024 - APP) // 3 // PAGE * PAGE
UPDATE = APP + 2 * SLOT
P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
ANCHOR = b"\x04" + b"\x11" * 64


def op(code, payload):
    return bytes([code]) + struct.pack("<H", len(payload)) + payload


def command(cmd, request=b""):
    return op(0, bytes([cmd]) + request)


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def upk(version, counter, size, product=b"fuzz", extra=b""):
    recipient = bytes([1, 4]) + b"fuzz" + bytes(32) + b"\x04" + b"\x33" * 64 + b"\xa6" + bytes(7) + b"\x44" * 32
    cert = b"\x30\x82\x01\x00" + P256_SPKI_PREFIX + ANCHOR
    body = (b"TBUPK\r\n\x1a\x00\x01\x00\x00" + tlv(1, product) + tlv(2, b"tb-vmcu-m4") + tlv(4, version)
            + tlv(5, struct.pack(">I", counter)) + tlv(6, struct.pack(">Q", FLASH_BASE + APP))
            + tlv(7, struct.pack(">Q", size)) + tlv(8, bytes(32)) + tlv(9, bytes(32)) + tlv(10, bytes(range(16)))
            + tlv(11, recipient) + tlv(12, cert) + extra)
    return body + tlv(0xff, b"\x00\x01\x30\x06\x02\x01\x01\x02\x01\x01")


def image_header(size, chunk):
    count = (size + chunk - 1) // chunk
    return (b"TBIMG\r\n\x1a\x00\x01\x00\x40" + struct.pack(">IIII", chunk, size >> 32, size & 0xffffffff, count)
            + bytes(4) + bytes(range(16)) + b"\x55" * 8 + bytes(8))


def chunks(size, chunk):
    out = []
    for i in range((size + chunk - 1) // chunk):
        n = min(chunk, size - i * chunk)
        out.append(bytes([(i * 13 + j) & 0xff for j in range(n)]) + bytes(16))
    return out


def install_session(version, counter, size, chunk=1024):
    s = command(3, upk(version, counter, size)) + command(4, image_header(size, chunk))
    for i, c in enumerate(chunks(size, chunk)):
        s += command(5, struct.pack(">I", i) + c)
    return s + command(6)


def record(seq, state, counter, size, version):
    r = struct.pack("<IIIII", 0x54535442, seq, state, counter, size) + version.ljust(32, b"\0") + bytes(32)
    return r + bytes(32) + b"\xff" * 12


STUB, OPENSSL = 0, 1
LC_SBM, LC_PROVISIONED = 1 << 1, 2 << 1
UNPROVISIONED = 8
write("sbm", "install", bytes([STUB | LC_PROVISIONED]) + install_session(b"1.2.3", 2, 2560)
      + command(7, bytes(range(32))) + command(1, bytes(range(32))) + op(3, b"") + op(4, b""))
write("sbm", "install-then-rollback", bytes([STUB | LC_PROVISIONED]) + install_session(b"1.2.3", 2, 2560)
      + install_session(b"1.0.0", 1, 1024))
write("sbm", "install-cut-mid-stream", bytes([STUB | LC_PROVISIONED]) + command(3, upk(b"2.0.0", 5, 3072))
      + command(4, image_header(3072, 1024)) + command(5, struct.pack(">I", 0) + chunks(3072, 1024)[0])
      + op(4, b"") + command(6))
staged = upk(b"1.3.0", 3, 2048)
staged_image = image_header(2048, 1024) + b"".join(chunks(2048, 1024))
write("sbm", "staged-update", bytes([STUB | LC_PROVISIONED]) + install_session(b"1.2.3", 2, 2560)
      + op(2, struct.pack("<I", UPDATE) + b"TBUPD\0\0\1" + struct.pack("<II", len(staged), len(staged_image))
           + staged + staged_image) + op(3, b""))
write("sbm", "journal-staged", bytes([STUB | LC_PROVISIONED])
      + op(2, struct.pack("<I", APP + SLOT) + b"\x77" * 2048)
      + op(2, struct.pack("<I", 16 * 1024) + record(7, 1, 4, 2048, b"9.9.9"))
      + op(2, struct.pack("<I", 17 * 1024) + record(6, 2, 3, 1024, b"9.9.8")) + op(3, b""))
provision = (ANCHOR + b"\x04fuzz" + b"\x04" + b"\x33" * 64 + b"\xa6" + bytes(7) + b"\x22" * 32
             + struct.pack(">H", 8) + b"\x30\x06\x02\x01\x01\x02\x01\x01" + b"\x01")
write("sbm", "provision-then-install", bytes([STUB | LC_SBM | UNPROVISIONED]) + command(1, bytes(32))
      + command(2, provision) + install_session(b"1.0.1", 1, 1024))
write("sbm", "openssl-attest-receipt", bytes([OPENSSL | LC_PROVISIONED]) + command(1, bytes(range(32)))
      + command(7, bytes(32)) + command(3, upk(b"1.2.3", 2, 2560)) + op(1, b"\x01" + struct.pack("<I", 0xffff)))
write("sbm", "openssl-provision", bytes([OPENSSL | LC_SBM | UNPROVISIONED]) + command(2, provision))
