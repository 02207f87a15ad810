# SPDX-License-Identifier: Apache-2.0
"""Generates the extraction tests' files with known text in known places: Office Open XML
documents written part by part (the XML Word, Excel and PowerPoint write, reduced to what readers
need), the same text saved by LibreOffice as Word and Excel 97–2003 and 2007+ files and as PDF,
archives, the encodings Chinese text comes in, and hostile files. Deterministic text: the same
content every run (fixed timestamps, no randomness; LibreOffice stamps its own save time)."""

import gzip
import hashlib
import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from xml.sax.saxutils import escape

STAMP = (2026, 1, 1, 0, 0, 0)


def _zip(members, compression=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = compression
            z.writestr(info, data)
    return out.getvalue()


CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
      'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx(paragraphs, header=None, doctype=""):
    body = "".join('<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % escape(p)
                   for p in paragraphs)
    members = [("[Content_Types].xml", CT),
               ("word/document.xml", '<?xml version="1.0"?>%s<w:document %s><w:body>%s</w:body>'
                '</w:document>' % (doctype, W, body))]
    if header:
        members.append(("word/header1.xml", '<w:hdr %s><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:hdr>'
                        % (W, escape(header))))
    return _zip(members)


def xlsx(sheets):
    """sheets: [(name, [[cell, ...], ...])]; str cells go to shared strings, int cells are numbers."""
    shared, rels, book, parts = [], [], [], []
    for i, (name, rows) in enumerate(sheets, 1):
        book.append('<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (escape(name), i, i))
        rels.append('<Relationship Id="rId%d" Type="worksheet" Target="worksheets/sheet%d.xml"/>' % (i, i))
        xml_rows = []
        for r, row in enumerate(rows, 1):
            cells = []
            for c, v in enumerate(row):
                ref = "%s%d" % (chr(ord("A") + c), r)
                if isinstance(v, int):
                    cells.append('<c r="%s"><v>%d</v></c>' % (ref, v))
                elif v.startswith("inline:"):
                    cells.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, escape(v[7:])))
                else:
                    shared.append(v)
                    cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, len(shared) - 1))
            xml_rows.append('<row r="%d">%s</row>' % (r, "".join(cells)))
        parts.append(("xl/worksheets/sheet%d.xml" % i, '<worksheet xmlns="http://schemas.openxmlformats'
                      '.org/spreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>' % "".join(xml_rows)))
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas' \
         '.openxmlformats.org/officeDocument/2006/relationships"'
    return _zip([("[Content_Types].xml", CT),
                 ("xl/workbook.xml", '<workbook %s><sheets>%s</sheets></workbook>' % (ns, "".join(book))),
                 ("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                  'package/2006/relationships">%s</Relationships>' % "".join(rels)),
                 ("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                  '2006/main">%s</sst>' % "".join("<si><t>%s</t></si>" % escape(s) for s in shared))]
                + parts)


def pptx(slides, notes=None):
    a = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' \
        'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
    members = [("[Content_Types].xml", CT), ("ppt/presentation.xml", "<p:presentation %s/>" % a)]
    for i, lines in enumerate(slides, 1):
        paras = "".join("<a:p><a:r><a:t>%s</a:t></a:r></a:p>" % escape(t) for t in lines)
        members.append(("ppt/slides/slide%d.xml" % i, "<p:sld %s><p:cSld><p:spTree><p:sp><p:txBody>%s"
                        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>" % (a, paras)))
    for i, text in (notes or {}).items():
        members.append(("ppt/notesSlides/notesSlide%d.xml" % i, "<p:notes %s><a:p><a:r><a:t>%s</a:t>"
                        "</a:r></a:p></p:notes>" % (a, escape(text))))
    return _zip(members)


_office_profile = None


def libreoffice(sources, fmt, infilter):
    """Converts each source file with LibreOffice (headless, with a profile of its own for this
    run) into format `fmt` ("doc", "xls", "docx", "xlsx", "pdf"), beside it; infilter reads the
    sources ("Text (encoded):UTF8,LF,,," for text, "CSV:44,34,76,1" for UTF-8 CSV). Returns the
    new files' paths."""
    global _office_profile
    if _office_profile is None:
        _office_profile = tempfile.mkdtemp(prefix="barra-office-")
    folder = os.path.dirname(os.path.abspath(sources[0]))
    p = subprocess.run(["soffice", "-env:UserInstallation=file://" + _office_profile, "--headless",
                        "--infilter=" + infilter, "--convert-to", fmt, "--outdir", folder]
                       + list(sources), capture_output=True, text=True, timeout=600)
    out = [os.path.splitext(os.path.abspath(s))[0] + "." + fmt for s in sources]
    missing = [o for o in out if not os.path.exists(o)]
    if p.returncode != 0 or missing:
        raise RuntimeError("LibreOffice did not write %s: %s" % (missing, p.stderr[-400:]))
    return out


TEXT_IN, CSV_IN = "Text (encoded):UTF8,LF,,,", "CSV:44,34,76,1"


def office_files(folder, hk, cn, mo):
    """Word and Excel 97–2003 files (and a 2007+ .xlsx and a PDF) saved by LibreOffice from text
    and CSV: {file name: [(path, where, substring)]}."""
    work = tempfile.mkdtemp(prefix="barra-office-src-")
    with open(os.path.join(work, "letter.txt"), "w", encoding="utf-8") as f:
        f.write("員工資料\n身份證號碼：%s\nResident ID %s\n" % (hk, cn))
    with open(os.path.join(work, "roster.csv"), "w", encoding="utf-8") as f:
        f.write("姓名,身份證號碼,Resident ID,Phone\n陳大文,%s,%s,85361234567\n李小明,%s,,28123456\n"
                % (hk, cn, mo))
    made = libreoffice([os.path.join(work, "letter.txt")], "doc", TEXT_IN)
    made += libreoffice([os.path.join(work, "roster.csv")], "xls", CSV_IN)
    for path in made:
        shutil.copy(path, folder)
    shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(folder, "letter.doc"), "rb") as f:
        doc = bytearray(f.read())
    with open(os.path.join(folder, "roster.xls"), "rb") as f:
        xls = bytearray(f.read())
    with open(os.path.join(folder, "locked.doc"), "wb") as f:
        f.write(encrypted_doc(doc))
    with open(os.path.join(folder, "locked.xls"), "wb") as f:
        f.write(encrypted_xls(xls))
    return {"letter.doc": [("letter.doc", "paragraph 2", "身份證號碼：" + hk),
                           ("letter.doc", "paragraph 3", "Resident ID " + cn)],
            "roster.xls": [("roster.xls", "roster!B2", "身份證號碼: " + hk),
                           ("roster.xls", "roster!C2", "Resident ID: " + cn),
                           ("roster.xls", "roster!D2", "Phone: 85361234567"),
                           ("roster.xls", "roster!B3", "身份證號碼: " + mo)]}


def encrypted_doc(doc):
    """The Word file with its FIB's fEncrypted flag (0x0100 of the flags at 0x0A) set, as Word
    sets it on a password-protected document (LibreOffice cannot save one from the command
    line)."""
    fib = doc.index(b"\xec\xa5")  # wIdent, at the start of the WordDocument stream
    doc[fib + 0x0B] |= 0x01
    return bytes(doc)


def encrypted_xls(xls):
    """The Excel file with the record after the workbook's BOF turned into FILEPASS (0x002F), where
    Excel writes it in a password-protected workbook."""
    bof = xls.index(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # BOF, BIFF8, workbook globals
    xls[bof + 20:bof + 22] = b"\x2f\x00"
    return bytes(xls)


def tar_gz(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1767225600
            t.addfile(info, io.BytesIO(data))
    # gzip stores a time and a name: made fixed so the bytes are the same every run
    return gzip.compress(gzip.decompress(out.getvalue()), mtime=0)


def encrypted_zip(name, data):
    """A ZIP whose member is marked encrypted (general purpose flag bit 0), as a password-protected
    archive is: readers must report it, not read it."""
    z = bytearray(_zip([(name, data)], zipfile.ZIP_STORED))
    struct.pack_into("<H", z, 6, struct.unpack_from("<H", z, 6)[0] | 1)
    cd = z.find(b"PK\x01\x02")
    struct.pack_into("<H", z, cd + 8, struct.unpack_from("<H", z, cd + 8)[0] | 1)
    return bytes(z)


def overlapping_zip(copies=1000):
    """A ZIP whose central directory names one compressed member (5 MiB of zeros) `copies` times
    under different names: every entry points at the same bytes, so reading them all would
    decompress 5 GiB from 5 KiB (the overlapping kind of zip bomb)."""
    z = _zip([("00000.txt", b"0" * (5 << 20))])
    cd, eocd = z.find(b"PK\x01\x02"), z.find(b"PK\x05\x06")
    entry = z[cd:eocd]
    entries = b"".join(entry[:46] + b"%05d" % i + b".txt" + entry[46 + 9:] for i in range(copies))
    end = bytearray(z[eocd:])
    struct.pack_into("<HHI", end, 8, copies, copies, len(entries))
    return z[:cd] + entries + bytes(end)


def encrypted_office():
    """The start of an OLE2 compound file holding an EncryptedPackage stream (what Office writes
    for a password-protected .docx)."""
    head = bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) + bytes(504)
    return head + "EncryptedPackage".encode("utf-16-le") + bytes(64)


def nested_zip(depth, text):
    data, name = text.encode(), "core.txt"
    for i in range(depth):
        data, name = _zip([(name, data)]), "level%d.zip" % i
    return data


def eml(hk, cn, attachment):
    """A message as mail programs save it: an encoded-word subject and sender, a Big5 text part in
    quoted-printable, an HTML alternative, and a Word attachment in base64. Fixed dates and
    boundaries, so the bytes are the same every run."""
    from email.mime.application import MIMEApplication
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.header import Header
    import email.charset
    msg = MIMEMultipart("mixed", boundary="=====barra-mixed=====")
    msg["From"] = str(Header("陳大文", "utf-8")) + " <tai.man@example.com>"
    msg["To"] = "hr@example.com"
    msg["Subject"] = Header("員工資料 %s" % hk, "utf-8").encode()
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0800"
    msg["Message-ID"] = "<fixture@barra.test>"
    alt = MIMEMultipart("alternative", boundary="=====barra-alt=====")
    big5 = email.charset.Charset("big5")
    big5.body_encoding = email.charset.QP
    text = MIMEText("", "plain")
    text.set_payload("身份證號碼 %s，請核對。" % hk, big5)
    alt.attach(text)
    alt.attach(MIMEText("<html><body><p>Resident ID&nbsp;<b>%s</b></p><script>var x='%s';</script>"
                        "</body></html>" % (cn, "not-text"), "html", "utf-8"))
    msg.attach(alt)
    part = MIMEApplication(attachment, Name="staff.docx")
    part["Content-Disposition"] = 'attachment; filename="staff.docx"'
    msg.attach(part)
    return msg.as_bytes()


def write_all(folder, ids, make_msg=None):
    """Writes every file into folder (an Outlook message too when given the make-msg tool); returns {file name: [(path, where, substring), ...]} of the
    text each must yield, and {file name: [(note kind, path substring)]} of the notes."""
    os.makedirs(folder, exist_ok=True)
    hk, cn, mo = ids["hk"], ids["cn"], ids["mo"]
    files, texts, notes = {}, {}, {}
    files["staff.docx"] = docx(["員工資料", "身份證號碼：%s" % hk, "Resident ID %s" % cn], header="Tel 6123 4567")
    texts["staff.docx"] = [("staff.docx", "paragraph 2", hk), ("staff.docx", "paragraph 3", cn),
                           ("staff.docx", "header1.xml paragraph 1", "6123 4567")]
    files["staff.xlsx"] = xlsx([("Staff", [["姓名", "身份證號碼", "Resident ID", "Note"],
                                           ["陳大文", hk, cn, "inline:Macau %s" % mo]])])
    texts["staff.xlsx"] = [("staff.xlsx", "Staff!B2", "身份證號碼: %s" % hk),
                           ("staff.xlsx", "Staff!C2", "Resident ID: %s" % cn),
                           ("staff.xlsx", "Staff!D2", "Note: Macau %s" % mo)]
    files["deck.pptx"] = pptx([["Q3 review"], ["Customer HKID", hk]], notes={2: "call %s" % cn})
    texts["deck.pptx"] = [("deck.pptx", "slide 2", hk), ("deck.pptx", "notes of slide 2", cn)]
    files["gb18030.txt"] = ("客户身份证号码 %s 请核对" % cn).encode("gb18030")
    texts["gb18030.txt"] = [("gb18030.txt", "", "客户身份证号码 %s" % cn)]
    files["big5.txt"] = ("客戶身份證號碼 %s 請核對" % hk).encode("big5")
    texts["big5.txt"] = [("big5.txt", "", "客戶身份證號碼 %s" % hk)]
    files["utf16.txt"] = "\ufeff員工 %s".encode("utf-16-le").replace(b"\xff\xfe", b"", 0)
    files["utf16.txt"] = b"\xff\xfe" + ("員工 %s" % hk).encode("utf-16-le")
    texts["utf16.txt"] = [("utf16.txt", "", "員工 %s" % hk)]
    inner = _zip([("gb.txt", files["gb18030.txt"]), ("staff.docx", files["staff.docx"])])
    files["bundle.zip"] = _zip([("readme.txt", b"Bundle for HR"), ("inner.zip", inner)])
    texts["bundle.zip"] = [("bundle.zip/inner.zip/gb.txt", "", cn),
                           ("bundle.zip/inner.zip/staff.docx", "paragraph 2", hk)]
    files["export.tar.gz"] = tar_gz([("hr/big5.txt", files["big5.txt"]), ("hr/staff.xlsx", files["staff.xlsx"])])
    texts["export.tar.gz"] = [("export.tar.gz/hr/big5.txt", "", hk),
                              ("export.tar.gz/hr/staff.xlsx", "Staff!C2", cn)]
    files["notes.txt.gz"] = gzip.compress(("note %s" % cn).encode(), mtime=0)
    texts["notes.txt.gz"] = [("notes.txt", "", cn)]
    # hostile files
    files["bomb.zip"] = _zip([("zeros.txt", b"0" * (60 << 20))])
    notes["bomb.zip"] = [("limit_reached", "bomb.zip/zeros.txt")]
    files["overlap.zip"] = overlapping_zip()  # checked by size: see test-extract.py
    files["deep.zip"] = nested_zip(8, "deep %s" % cn)
    notes["deep.zip"] = [("limit_reached", "deep.zip/level6.zip/level5.zip/level4.zip/level3.zip")]
    files["laughs.docx"] = docx(["&lol9;"], doctype='<!DOCTYPE lolz [<!ENTITY lol "lol">'
                                '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
    notes["laughs.docx"] = [("corrupt", "laughs.docx")]
    files["truncated.zip"] = files["bundle.zip"][:len(files["bundle.zip"]) // 2]
    notes["truncated.zip"] = [("corrupt", "truncated.zip")]
    files["secret.zip"] = encrypted_zip("salaries.txt", ("salary %s" % cn).encode())
    notes["secret.zip"] = [("unscannable_encrypted", "secret.zip/salaries.txt")]
    files["locked.docx"] = encrypted_office()
    notes["locked.docx"] = [("unscannable_encrypted", "locked.docx")]
    # 2 MiB in one cell, of hex digits that compress like real text (about 2:1), not like a bomb
    filler = "".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range((2 << 20) // 64))
    files["message.eml"] = eml(hk, cn, files["staff.docx"])
    texts["message.eml"] = [("message.eml", "headers", "Subject: 員工資料 %s" % hk),
                            ("message.eml", "headers", "From: 陳大文"),
                            ("message.eml", "body", "身份證號碼 %s" % hk),
                            ("message.eml", "", "Resident ID %s" % cn),
                            ("message.eml/staff.docx", "paragraph 2", hk)]
    files["page.html"] = ("<!DOCTYPE html><html><head><title>Staff</title><style>p{x:1}</style>"
                          "</head><body><table><tr><td>姓名</td><td>陳大文</td></tr><tr><td>身份證"
                          "</td><td>%s</td></tr></table><p>&#x624B;&#27231; 6123&nbsp;4567</p>"
                          "</body></html>" % hk).encode()
    texts["page.html"] = [("page.html", "", hk), ("page.html", "", "手機 6123 4567")]
    files["big-cell.xlsx"] = xlsx([("Big", [["Note"], [filler + " " + hk]])])
    texts["big-cell.xlsx"] = [("big-cell.xlsx", "Big!A2", hk)]
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    subprocess.run([pillow_python(), os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "make_images.py"), folder, hk], check=True)
    texts["card-0.png"] = [("card-0.png", "OCR", hk)]
    texts["photo-0.jpg"] = [("photo-0.jpg", "OCR", hk)]
    notes["huge.png"] = [("limit_reached", "huge.png")]
    pdfs(folder, hk, cn, os.path.join(folder, "card-0.png"))
    if make_msg:
        subprocess.run([make_msg, os.path.join(folder, "outlook.msg"), "員工資料 %s" % hk,
                        "Resident ID %s" % cn, "staff.docx", os.path.join(folder, "staff.docx")],
                       check=True)
        texts["outlook.msg"] = [("outlook.msg", "headers", "Subject: 員工資料 %s" % hk),
                                ("outlook.msg", "headers", "From: 陳大文"),
                                ("outlook.msg", "body", "Resident ID %s" % cn),
                                ("outlook.msg/staff.docx", "paragraph 2", hk)]
    texts.update(office_files(folder, hk, cn, mo))
    notes["locked.doc"] = [("unscannable_encrypted", "locked.doc")]
    notes["locked.xls"] = [("unscannable_encrypted", "locked.xls")]
    texts["scan.pdf"] = [("scan.pdf", "page 1", hk)]
    texts["report.pdf"] = [("report.pdf", "page 1", hk), ("report.pdf", "page 2", "身份證號碼：" + hk),
                           ("report.pdf", "page 3", "身份证号码：" + cn)]
    notes["locked.pdf"] = [("unscannable_encrypted", "locked.pdf")]
    notes["broken.pdf"] = [("corrupt", "broken.pdf")]
    return texts, notes


def _python_with(module):
    """This Python if it has `module`, else Debian's (where python3-* packages install)."""
    try:
        __import__(module)
        return sys.executable
    except ImportError:
        return "/usr/bin/python3"


def reportlab_python():
    return _python_with("reportlab")


def pillow_python():
    return _python_with("PIL")


def pdfs(folder, hk, cn, card=None):
    subprocess.run([reportlab_python(), os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "make_pdfs.py"), folder, hk, cn]
                   + ([card] if card else []), check=True)
