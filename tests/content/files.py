"""Files the processing and search tests upload, made on the spot: a PDF with text (WeasyPrint),
a scan (Pillow draws the words, as a PNG or an image-only PDF), a DOCX (its XML by hand) and an
XLSX (openpyxl)."""

import io
import zipfile

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def pdf_with_text(text: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<p>{text}</p>").write_pdf()


def scan(lines: list[str], *, fmt: str = "PNG") -> bytes:
    """A picture of the lines in large black letters (PNG), or a PDF holding only that picture."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("L", (1400, 140 * len(lines) + 80), 255)
    draw = ImageDraw.Draw(picture)
    try:  # Debian's DejaVu (fonts-dejavu-core, which WeasyPrint's pango pulls in) has every accent
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 56)
    except OSError:
        font = ImageFont.load_default(size=56)
    for i, line in enumerate(lines):
        draw.text((40, 60 + 140 * i), line, fill=0, font=font)
    out = io.BytesIO()
    if fmt == "PDF":
        picture.convert("RGB").save(out, "PDF", resolution=150)
    else:
        picture.save(out, fmt)
    return out.getvalue()


def docx(paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", DOCX_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def pptx(slides: list[list[str]]) -> bytes:
    """A presentation: each slide's paragraphs as DrawingML text runs (slide10 after slide2)."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    types = DOCX_TYPES.replace(
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>',
        '<Override PartName="/ppt/presentation.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>',
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", DOCX_RELS.replace("word/document.xml", "ppt/presentation.xml"))
        archive.writestr("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation xmlns:p="p"/>')
        for number, paragraphs in enumerate(slides, start=1):
            body = "".join(f"<a:p><a:r><a:t>{p}</a:t></a:r></a:p>" for p in paragraphs)
            archive.writestr(
                f"ppt/slides/slide{number}.xml",
                f'<?xml version="1.0"?><p:sld xmlns:p="p" xmlns:a="{a}"><p:txBody>{body}</p:txBody></p:sld>',
            )
    return out.getvalue()


def opendocument(kind: str, body: str) -> bytes:
    """An OpenDocument file (kind: text, spreadsheet, presentation) whose office:body is `body`
    (using the text: and table: prefixes)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", f"application/vnd.oasis.opendocument.{kind}", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
            f'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.{kind}"/>'
            "</manifest:manifest>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return out.getvalue()


def pdf_pages(texts: list[str]) -> bytes:
    """A PDF with one page per text (WeasyPrint)."""
    from weasyprint import HTML

    pages = "".join(f'<p style="page-break-after: always">{t}</p>' for t in texts)
    return HTML(string=pages).write_pdf()
