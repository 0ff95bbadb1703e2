"""Processing a blob once it is stored: its text (PDF, DOCX, XLSX, PPTX, OpenDocument text,
spreadsheets and presentations, HTML, plain text; OCR of scans and pictures with Tesseract) and its
pictures (a thumbnail and a web size with Pillow; PDFs are rendered first with poppler's pdftoppm).
A PDF's other pages get a preview each when first asked for (page_preview), up to a page limit.

Done once per blob (so per SHA-256): versions and documents sharing the bytes share the result.
Everything here works on a temporary copy of the bytes and limits what a hostile file can cost:
pages rendered or OCR'd, characters of text kept, seconds and memory of each program run.
A file that cannot be read raises Unreadable with the reason in words (it is not retried).
"""

import io
import os
import re
import resource
import shutil
import subprocess
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

from . import storage

# Derived pictures: the longest side in pixels.
SIZES = {"thumb": 320, "web": 1600}
# Tesseract's languages the settings page offers (Debian's tesseract-ocr-<code> packages).
OCR_LANGUAGES = {"eng": "English", "deu": "German", "fra": "French"}
PICTURES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "image/bmp"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OPENDOCUMENT = "application/vnd.oasis.opendocument."  # .text, .spreadsheet, .presentation (and templates)
HTML = {"text/html", "application/xhtml+xml"}
TEXTS = {"text/plain", "text/csv", "text/markdown"}
WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"  # a slide's text runs
ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
SLIDE = re.compile(r"ppt/slides/slide([0-9]+)\.xml")
# Marks the search's snippets use for matches: never left in extracted text (apps.content.search).
NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\ue000\ue001]")


class Unreadable(Exception):
    """The file cannot be processed; the message says why, in words."""


def limits() -> dict:
    return settings.HUB_CONTENT_PROCESSING


def derived_name(schema: str, sha256: str, kind: str) -> str:
    return f"{schema}/derived/{sha256[:2]}/{sha256}/{kind}.webp"


def page_name(schema: str, sha256: str, page: int) -> str:
    return derived_name(schema, sha256, f"page-{page}")


def process(path: Path, mime_type: str, *, schema: str, sha256: str, languages: str) -> tuple[str, list[str], int]:
    """(the text, the pictures made, its pages: a PDF's count, else 0) of the file at `path`; the
    pictures are stored under the blob's hash."""
    pages = 0
    with tempfile.TemporaryDirectory(prefix="hub-process-") as work:
        work = Path(work)
        picture, text = None, ""
        if mime_type == "application/pdf":
            text = _pdf_text(path)
            pages = _pdf_pages(path)
            first = _pdf_page(path, work, first=1, last=1, dpi=72, scale=SIZES["web"])  # its preview
            picture = first[0] if first else None
            if len(text.strip()) < limits()["min_pdf_chars"]:  # a scan: read its pages
                scans = _pdf_page(path, work, first=1, last=limits()["ocr_pages"], dpi=200)
                text = "\n\f".join(_ocr(scan, languages) for scan in scans)
        elif mime_type in PICTURES:
            picture = path
            text = _ocr(path, languages) if _pixels(path) <= limits()["ocr_max_pixels"] else ""
        elif mime_type == DOCX:
            text = _docx_text(path)
        elif mime_type == XLSX:
            text = _xlsx_text(path)
        elif mime_type == PPTX:
            text = _pptx_text(path)
        elif mime_type.startswith(OPENDOCUMENT):
            text = _opendocument_text(path)
        elif mime_type in HTML:
            text = _html_text(_read_text(path))
        elif mime_type in TEXTS:
            text = _read_text(path)
        made = _pictures(picture, schema=schema, sha256=sha256) if picture else []
    return NOT_IN_TEXT.sub(" ", text)[: limits()["text_chars"]], made, pages


def preview_pages(pages: int | None) -> int:
    """How many pages of a PDF of `pages` pages get a preview (HUB_CONTENT_PREVIEW_PAGES at most)."""
    return min(pages or 0, limits()["preview_pages"])


def page_preview(schema: str, sha256: str, page: int) -> str:
    """The storage name of a web-size WebP of the PDF blob's page `page`, drawn on first request
    (pdftoppm, then Pillow) and kept next to the blob's other pictures. The caller checks that
    the page is within preview_pages."""
    name = page_name(schema, sha256, page)
    if storage.store().exists(name):
        return name
    with tempfile.TemporaryDirectory(prefix="hub-preview-") as work:
        work = Path(work)
        copy = work / "blob.pdf"
        with storage.open_blob(schema, sha256) as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out)
        drawn = _pdf_page(copy, work, first=page, last=page, dpi=72, scale=SIZES["web"])
        if not drawn:
            raise Unreadable(f"The PDF has no page {page}.")
        made = thumbnails(drawn[0], {"web": SIZES["web"]})
    if not storage.store().exists(name):  # (two first requests at once: the first one's stays)
        storage.store().save(name, ContentFile(made["web"]))
    return name


def _read_text(path: Path) -> str:
    with path.open("rb") as f:
        return f.read(limits()["text_chars"] * 4).decode("utf-8", errors="replace")


def thumbnails(source, sizes: dict[str, int]) -> dict[str, bytes]:
    """WebPs of `source` (a path or file), at most `sizes[kind]` pixels a side, upright (EXIF
    orientation). Decoded once, largest first; each smaller one is made from the one before."""
    made = {}
    try:
        with Image.open(source) as picture:
            largest = max(sizes.values())
            picture.draft("RGB", (largest, largest))  # JPEG: decode at a fraction of the size (fast)
            picture = ImageOps.exif_transpose(picture)
            if picture.mode not in ("RGB", "RGBA"):
                picture = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
            for kind, size in sorted(sizes.items(), key=lambda item: -item[1]):
                picture.thumbnail((size, size))
                out = io.BytesIO()
                picture.save(out, "WEBP", quality=80, method=0)
                made[kind] = out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable("The picture could not be read: it may be damaged.") from exc
    return made


def _pixels(path: Path) -> int:
    try:
        with Image.open(path) as picture:
            return picture.width * picture.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable("The picture could not be read: it may be damaged.") from exc


def _pictures(source, *, schema: str, sha256: str) -> list[str]:
    made = thumbnails(source, SIZES)
    for kind in SIZES:
        storage.store().save(derived_name(schema, sha256, kind), ContentFile(made[kind]))
    return list(SIZES)


# --- programs: each run with a time limit and a memory cap ---------------------------------------


def _capped():
    memory = limits()["program_memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _run(command: list[str], what: str) -> bytes:
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=limits()["program_seconds"], preexec_fn=_capped, check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # tesseract: one core per task, as the worker's pool counts
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise Unreadable(f"{what} took longer than {limits()['program_seconds']} seconds and was stopped.") from exc
    if done.returncode != 0:
        raise Unreadable(f"{what} failed: the file may be damaged.")
    return done.stdout


def _pdf_text(path: Path) -> str:
    last = str(limits()["pdf_pages"])
    out = _run(["pdftotext", "-q", "-l", last, "-enc", "UTF-8", str(path), "-"], "Reading the PDF's text")
    return out.decode("utf-8", errors="replace")


def _pdf_pages(path: Path) -> int:
    out = _run(["pdfinfo", str(path)], "Counting the PDF's pages")
    found = re.search(rb"^Pages:\s+([0-9]+)", out, re.MULTILINE)
    return int(found.group(1)) if found else 0


def _pdf_page(path: Path, work: Path, *, first: int, last: int, dpi: int, scale: int = 0) -> list[Path]:
    """Pages first..last of the PDF as PNG files (fewer when the PDF is shorter)."""
    prefix = work / f"page-{dpi}"
    command = ["pdftoppm", "-q", "-f", str(first), "-l", str(last), "-r", str(dpi), "-png"]
    command += ["-scale-to", str(scale)] if scale else ["-gray"]
    _run([*command, str(path), str(prefix)], "Drawing the PDF's pages")
    return sorted(work.glob(f"page-{dpi}*.png"))


def _ocr(picture: Path, languages: str) -> str:
    languages = "+".join(code for code in languages.split("+") if code in OCR_LANGUAGES) or "eng"
    out = _run(["tesseract", str(picture), "stdout", "-l", languages, "--psm", "3"], "Reading the scanned text")
    return out.decode("utf-8", errors="replace")


# --- office files: read through the archive, never more than the text limit ------------------------


def _docx_text(path: Path) -> str:
    with _archive(path, "Word document") as archive:
        root = _archive_xml(archive, "word/document.xml", "Word document")
    paragraphs = ("".join(t.text or "" for t in p.iter(f"{WORD}t")) for p in root.iter(f"{WORD}p"))
    return "\n".join(paragraphs)


def _xlsx_text(path: Path) -> str:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    cap, size, lines = limits()["text_chars"], 0, []
    try:
        with path.open("rb") as f:  # (by name, openpyxl would insist on an .xlsx extension)
            workbook = load_workbook(f, read_only=True, data_only=True)
            for sheet in workbook.worksheets:
                lines.append(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    line = " ".join(str(value) for value in row if value is not None)
                    lines.append(line)
                    size += len(line) + 1
                    if size > cap:
                        return "\n".join(lines)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise Unreadable("The spreadsheet could not be read: it may be damaged.") from exc
    return "\n".join(lines)


def _archive(path: Path, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise Unreadable(f"The {what} could not be read: it may be damaged.") from exc


def _archive_xml(archive: zipfile.ZipFile, member: str, what: str):
    """One XML member of an office archive, parsed safely (defusedxml) and read up to the XML limit."""
    from defusedxml import ElementTree

    try:
        with archive.open(member) as f:
            return ElementTree.fromstring(f.read(limits()["xml_bytes"] + 1)[: limits()["xml_bytes"]])
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"The {what} could not be read: it may be damaged.") from exc


def _pptx_text(path: Path) -> str:
    """Each slide's text, in slide order; a slide's paragraphs one a line."""
    with _archive(path, "presentation") as archive:
        slides = sorted((int(m.group(1)), name) for name in archive.namelist() if (m := SLIDE.fullmatch(name)))
        texts, size = [], 0
        for _, name in slides:
            root = _archive_xml(archive, name, "presentation")
            for paragraph in root.iter(f"{DRAWING}p"):
                line = "".join(t.text or "" for t in paragraph.iter(f"{DRAWING}t"))
                texts.append(line)
                size += len(line) + 1
            if size > limits()["text_chars"]:
                break
    return "\n".join(texts)


def _opendocument_text(path: Path) -> str:
    """An OpenDocument file's (text, spreadsheet, presentation) paragraphs and headings, from its
    content.xml: a spreadsheet's cells and a slide's boxes hold paragraphs too."""
    with _archive(path, "OpenDocument file") as archive:
        root = _archive_xml(archive, "content.xml", "OpenDocument file")
    return "\n".join(
        "".join(element.itertext()) for element in root.iter() if element.tag in (f"{ODF_TEXT}p", f"{ODF_TEXT}h")
    )


class _HTMLText(HTMLParser):
    """The words a browser would show: no tags, scripts, styles or comments; entities decoded."""

    HIDDEN = {"script", "style", "template", "noscript"}
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
