#!/usr/bin/env python3
"""Writes the demo products' photos (PNG, standard library only) into a folder: one per demo product, coloured by its
produce (millet gold, 沁州黄 deep yellow in a red gift box, sweet corn with green husks), 480 x 360 pixels.
scripts/run.sh uploads them through POST /v1/products/{id}/images once livebuyd is up.
Usage: scripts/demo-photos.py FOLDER      prints the files it wrote, one "PRODUCT_ID PATH" a line"""

import os
import struct
import sys
import zlib

WIDTH, HEIGHT = 480, 360


def png(pixel):
    """A PNG of WIDTH x HEIGHT whose colour at (x, y) is pixel(x, y) -> (r, g, b)."""
    rows = b"".join(b"\0" + bytes(c for x in range(WIDTH) for c in pixel(x, y)) for y in range(HEIGHT))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def grains(base, dot, step):
    """Millet: a golden field of small round grains."""
    def pixel(x, y):
        gx, gy = (x + (y // step % 2) * step // 2) % step - step // 2, y % step - step // 2
        return dot if gx * gx + gy * gy <= (step // 3) ** 2 else base
    return pixel


def gift_box(x, y):
    """沁州黄 in a gift box: a red box with a gold band, grains in its window."""
    if 120 <= x < 360 and 90 <= y < 270:
        return grains((236, 184, 40), (250, 214, 90), 12)(x, y)
    if 228 <= x < 252 or 168 <= y < 186:
        return (230, 190, 70)
    return (178, 30, 36)


def corn(x, y):
    """Sweet corn: yellow kernels in rows between green husks."""
    if x < 70 or x >= WIDTH - 70:
        return (70, 140, 50) if (x // 9) % 2 else (96, 168, 64)
    return (250, 214, 74) if (x % 16 < 13 and y % 14 < 11) else (214, 168, 40)


PHOTOS = [
    (1, "millet.png", grains((214, 160, 36), (246, 204, 84), 14)),
    (2, "qinzhouhuang.png", gift_box),
    (3, "corn.png", corn),
]


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for product_id, name, pixel in PHOTOS:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(png(pixel))
            os.replace(path + ".tmp", path)
        print(product_id, path)


if __name__ == "__main__":
    main()
