"""`statecast plot` against a real statecastd: PNG and SVG files of the
asked size, the PNG's signature and IHDR, the SVG parsed as XML, the
drawing's colours present (history blue, band orange), and the errors."""
import os
import struct
import subprocess
import sys
import time
import xml.dom.minidom
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from visual_helpers import CLI, check, feed, start_daemon, summary  # noqa


def png_rgb(path):
    """(width, height, rows of bytes) of an 8-bit RGB/RGBA PNG, decoded
    with zlib only (filters undone), to look at the drawn colours."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[0], hdr[1], hdr[2], hdr[3]
    assert depth == 8 and ctype in (2, 6)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    rows, prev, stride = [], bytearray(w * bpp), w * bpp
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main(tmp):
    _, ports = start_daemon(tmp)
    feed(ports["graphite"], int(time.time()) - 20000, 400, step=30)
    rpc = ["--rpc", "127.0.0.1:%d" % ports["rpc"]]

    png = os.path.join(tmp, "web.a.png")
    r = subprocess.run([CLI, "plot", "web.a", "-o", png, "--size",
                        "640x300"] + rpc, capture_output=True, timeout=60)
    check(r.returncode == 0 and b"forecast band" in r.stdout,
          "plot to PNG: %r" % (r.stdout + r.stderr))
    head = open(png, "rb").read(33)
    check(head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR",
          "PNG signature and IHDR")
    check(struct.unpack(">II", head[16:24]) == (640, 300),
          "PNG is 640x300")
    w, h, bpp, rows = png_rgb(png)
    blue = band = 0
    for row in rows:
        for x in range(w):
            r_, g, b = row[x * bpp:x * bpp + 3]
            blue += b > 150 and r_ < 90 and 90 < g < 150
            band += r_ > 240 and 200 < g < 235 and 170 < b < 215
    check(blue > 300 and band > 300,
          "history and band are drawn (%d blue, %d band pixels)"
          % (blue, band))

    svg = os.path.join(tmp, "web.a.svg")
    r = subprocess.run([CLI, "plot", 'web.q"uo\\te', "-o", svg] + rpc,
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "plot to SVG")
    try:
        root = xml.dom.minidom.parse(svg).documentElement
        ok = root.tagName == "svg" and root.getAttribute("width") == "960pt"
        ok = ok and len(root.getElementsByTagName("path")) > 5
    except Exception as e:  # noqa: BLE001
        print("  " + repr(e))
        ok = False
    check(ok, "SVG parses as XML, svg root 960pt wide with paths")

    r = subprocess.run([CLI, "plot", "no.such", "-o", png] + rpc,
                       capture_output=True, timeout=60)
    check(r.returncode == 1 and b"no series" in r.stderr,
          "unknown series: exit 1 with the daemon's message")
    r = subprocess.run([CLI, "plot", "web.a", "-o",
                        os.path.join(tmp, "x.jpg")] + rpc,
                       capture_output=True, timeout=60)
    check(r.returncode == 1 and b".svg or .png" in r.stderr,
          "unknown format refused")
    r = subprocess.run([CLI, "plot", "web.a"] + rpc, capture_output=True,
                       timeout=60)
    check(r.returncode == 2, "missing -o is a usage error")


if __name__ == "__main__":
    summary(main)
