#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the seeds of fuzz/fuzz-gdb.c: what a GDB server sends during the
# harness's session (handshake, m, X, qRcmd, p, g, P, c, ^C, D).
#   good-no-ack.bin   no-ack mode, PacketSize 0x1000, run-length encoding
#   good-acks.bin     acks, no PacketSize, console output, M fallback (X unknown)
#   bad-checksum.bin  a reply whose checksum is off
#   garbage.bin       bytes that are no packet
import os


def packet(payload):
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


def rle(hexdigits):
    out, i = b"", 0
    while i < len(hexdigits):
        run = 1
        while i + run < len(hexdigits) and hexdigits[i + run] == hexdigits[i] and run < 98:
            run += 1
        out += hexdigits[i:i + 1]
        if run >= 4:
            repeat = run - 1
            if repeat + 29 in (ord("#"), ord("$")):
                repeat = 5
            out += b"*" + bytes([repeat + 29])
            i += repeat + 1
        else:
            i += 1
    return out


def console(text):
    return packet(b"O" + text.encode().hex().encode())


def session(acks, compress, extra=b""):
    ack = b"+" if acks else b""
    memory = bytes(300).hex().encode()
    regs = (b"00000000" * 15) + b"00800008" + b"00000001"
    steps = []
    steps.append(packet(b"PacketSize=1000;QStartNoAckMode+" if not acks else b"swbreak+"))
    if not acks:
        steps.append(packet(b"OK"))
    steps.append(packet(b"S05"))
    if acks:
        # 400-byte packets hold 198 bytes of a read
        steps.append(extra + packet(memory[:396]))
        steps.append(packet(memory[396:]))
    else:
        steps.append(extra + packet(rle(memory) if compress else memory))
    if acks:
        # 300 bytes in 400-byte packets: two M writes after X is refused
        steps += [packet(b""), packet(b"OK"), packet(b"OK")]
    else:
        steps.append(packet(b"OK"))
    steps.append(console("target halted\n") + packet(b"OK"))
    steps.append(packet(b"00800008"))
    steps.append(packet(regs))
    steps.append(packet(b"OK"))
    steps.append(b"")  # c: no reply
    steps.append(packet(b"T05"))
    steps.append(packet(b"OK"))
    # qSupported and QStartNoAckMode are acknowledged even on the way to no-ack mode
    head = b"" if acks else b"+" + steps.pop(0) + b"+" + steps.pop(0)
    return head + b"".join(ack + s if s else ack for s in steps)


here = os.path.dirname(os.path.abspath(__file__))
seeds = {
    "good-no-ack.bin": session(False, True),
    "good-acks.bin": session(True, False, console("hello\n")),
    "bad-checksum.bin": b"+$PacketSize=1000#00" * 5,
    "garbage.bin": b"+" + b"x" * 3000 + packet(b"swbreak+") + b"+" + b"\0" * 5000,
}
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
