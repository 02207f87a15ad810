# SPDX-License-Identifier: Apache-2.0
"""Writes the extraction tests' PDFs with ReportLab (Debian's python3-reportlab), reproducibly
(ReportLab's invariant mode: no dates, no random ids): Chinese in the standard CID fonts (no font
embedded; readers map them with poppler-data), a password-protected copy and a truncated one.

    make_pdfs.py FOLDER HKID CNID [CARD_IMAGE]

With CARD_IMAGE, also scan.pdf: a page that is only that picture, as a scanner makes it."""

import os
import sys

from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import cidfonts, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas


def report(path, hk, cn, encrypt=None):
    # ReportLab's table gives MSung-Light (Adobe-CNS1, Traditional) the GB1 character map; the
    # text is written as UCS-2 either way, and readers need the map that matches the font.
    cidfonts.defaultUnicodeEncodings["MSung-Light"] = ("cht", "UniCNS-UCS2-H")
    pdfmetrics.registerFont(UnicodeCIDFont("MSung-Light"))   # Traditional
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # Simplified
    c = canvas.Canvas(path, invariant=1, encrypt=encrypt)
    c.setFont("Helvetica", 12)
    c.drawString(72, 720, "Medical report. Patient identity card: %s" % hk)
    c.showPage()
    c.setFont("MSung-Light", 14)
    c.drawString(72, 720, "病人身份證號碼：%s" % hk)
    c.showPage()
    c.setFont("STSong-Light", 14)
    c.drawString(72, 720, "居民身份证号码：%s" % cn)
    c.showPage()
    c.save()


def scan(path, image):
    c = canvas.Canvas(path, invariant=1)
    c.drawImage(image, 36, 300, width=540, height=315)
    c.showPage()
    c.save()


def main():
    folder, hk, cn = sys.argv[1:4]
    if len(sys.argv) > 4:
        scan(os.path.join(folder, "scan.pdf"), sys.argv[4])
    report(os.path.join(folder, "report.pdf"), hk, cn)
    report(os.path.join(folder, "locked.pdf"), hk, cn,
           encrypt=StandardEncryption("secret-password", canPrint=0))
    data = open(os.path.join(folder, "report.pdf"), "rb").read()
    with open(os.path.join(folder, "broken.pdf"), "wb") as f:
        f.write(data[:len(data) // 3])


main()
