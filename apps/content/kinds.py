"""Words for file types: people read "PDF document", not application/pdf."""

KINDS = {
    "application/pdf": "PDF document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint presentation",
    "application/zip": "ZIP archive",
    "text/plain": "Text",
    "text/csv": "CSV table",
    "text/html": "Web page (HTML)",
    "image/svg+xml": "SVG picture",
    "application/json": "JSON",
    "application/octet-stream": "File",
}
FAMILIES = {"image": "picture", "video": "video", "audio": "audio", "text": "text"}


def kind_label(mime_type: str | None) -> str:
    if not mime_type:
        return ""
    if mime_type in KINDS:
        return KINDS[mime_type]
    family, _, sub = mime_type.partition("/")
    if family in FAMILIES:
        return f"{sub.upper().removeprefix('X-')} {FAMILIES[family]}"
    return "File"
