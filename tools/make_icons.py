"""Draws the app icons (a gold star on party red) as PNGs with the standard library only.

Run once by hand when the icon changes: python3 tools/make_icons.py
"""
import math
import struct
import zlib

RED = (200, 16, 46)
GOLD = (255, 214, 0)


def star(cx, cy, r_outer, r_inner):
    pts = []
    for i in range(10):
        r = r_outer if i % 2 == 0 else r_inner
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return pts


def inside(x, y, poly):
    hit = False
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit


def png(size, path):
    poly = star(size / 2, size * 0.53, size * 0.34, size * 0.14)
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 2x2 supersampling for smooth edges.
            cover = sum(inside(x + dx, y + dy, poly) for dx in (0.25, 0.75) for dy in (0.25, 0.75)) / 4
            row += bytes(round(RED[c] * (1 - cover) + GOLD[c] * cover) for c in range(3))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", raw))
        f.write(chunk(b"IEND", b""))


for size in (192, 512):
    png(size, f"public/icons/icon-{size}.png")
