# SPDX-License-Identifier: Apache-2.0
"""Writes the OCR tests' images with Pillow (Debian's python3-pil) and the WenQuanYi Zen Hei font
(fonts-wqy-zenhei): ID-card-like cards with a name, a label and a number, clean as a scan and as a
photograph would be (turned, tilted, noisy, JPEG), and one image too large to decode. Pseudo-random
noise from a fixed seed: the same pixels every run.

    make_images.py FOLDER ID [ID ...]"""

import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def card(number, name="陳大文"):
    img = Image.new("RGB", (1200, 700), "white")
    d = ImageDraw.Draw(img)
    big, small = ImageFont.truetype(FONT, 64), ImageFont.truetype(FONT, 44)
    d.text((60, 60), "香港永久性居民身份證", font=small, fill="black")
    d.text((60, 140), "HONG KONG PERMANENT IDENTITY CARD", font=small, fill="black")
    d.text((60, 260), "姓名 %s" % name, font=big, fill="black")
    d.text((60, 400), "身份證號碼", font=small, fill="black")
    d.text((60, 480), number, font=big, fill="black")
    return img


def photographed(img, seed):
    """Turned a quarter, tilted 2 degrees, blurred a little, with noise, as a JPEG."""
    rng = random.Random(seed)
    img = img.rotate(90, expand=True).rotate(2, expand=True, fillcolor="white")
    img = img.filter(ImageFilter.GaussianBlur(1))
    px = img.load()
    w, h = img.size
    for _ in range(w * h // 40):
        x, y = rng.randrange(w), rng.randrange(h)
        v = rng.randrange(120, 256)
        px[x, y] = (v, v, v)
    return img


def main():
    folder, ids = sys.argv[1], sys.argv[2:]
    for i, number in enumerate(ids):
        card(number).save(os.path.join(folder, "card-%d.png" % i))
        photographed(card(number), seed=i).save(os.path.join(folder, "photo-%d.jpg" % i), quality=75)
    Image.new("1", (9000, 9000), 1).save(os.path.join(folder, "huge.png"))


main()
