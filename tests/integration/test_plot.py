"""`statecast plot` against a real statecastd: PNG and SVG files of the
asked size, the PNG's signature and IHDR, the SVG parsed as XML, the
drawing's colours present (history blue, band orange), and the errors."""
import math
import os
import struct
import time
import xml.dom.minidom
import zlib

from statecast_test import Checks, Daemon, history

NAMES = ["web.a", 'web.q"uo\\te']


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


def plots(c):
    with Daemon() as d:
        lines = []
        t0 = int(time.time()) - 20000
        for i in range(400):
            for k, name in enumerate(NAMES):
                v = 50 + 10 * k + 5 * math.sin(i * 2 * math.pi / 24)
                lines.append("%s %.6f %d\n" % (name, v, t0 + 30 * i))
        d.send_lines("graphite", "".join(lines).encode())
        # Lines are stored within the group-commit window; plot reads the
        # stored history.
        r = d.rpc()
        for name in NAMES:
            history(r, name, 400)
        r.close()
        draw(c, d)


def draw(c, d):
    tmp = d.dir
    png = os.path.join(tmp, "web.a.png")
    p = d.cli("plot", "web.a", "-o", png, "--size", "640x300")
    c.check("plot to PNG", p.returncode == 0 and "forecast band" in p.stdout,
            p.stdout + p.stderr)
    head = open(png, "rb").read(33)
    c.check("PNG signature and IHDR", head[:8] == b"\x89PNG\r\n\x1a\n"
            and head[12:16] == b"IHDR")
    c.check("PNG is 640x300", struct.unpack(">II", head[16:24]) == (640, 300))
    w, h, bpp, rows = png_rgb(png)
    blue = band = 0
    for row in rows:
        for x in range(w):
            r_, g, b = row[x * bpp:x * bpp + 3]
            blue += b > 150 and r_ < 90 and 90 < g < 150
            band += r_ > 240 and 200 < g < 235 and 170 < b < 215
    c.check("history and band are drawn", blue > 300 and band > 300,
            "%d blue, %d band pixels" % (blue, band))

    svg = os.path.join(tmp, "web.a.svg")
    p = d.cli("plot", NAMES[1], "-o", svg)
    c.check("plot to SVG", p.returncode == 0, p.stdout + p.stderr)
    root = xml.dom.minidom.parse(svg).documentElement
    c.check("SVG parses as XML, svg root 960pt wide with paths",
            root.tagName == "svg" and root.getAttribute("width") == "960pt"
            and len(root.getElementsByTagName("path")) > 5)

    p = d.cli("plot", "no.such", "-o", png)
    c.check("unknown series: exit 1 with the daemon's message",
            p.returncode == 1 and "no series" in p.stderr, p.stderr)
    p = d.cli("plot", "web.a", "-o", os.path.join(tmp, "x.jpg"))
    c.check("unknown format refused",
            p.returncode == 1 and ".svg or .png" in p.stderr, p.stderr)
    p = d.cli("plot", "web.a")
    c.check("missing -o is a usage error", p.returncode == 2, p.stderr)


if __name__ == "__main__":
    checks = Checks()
    checks.run(plots)
    checks.summary()
