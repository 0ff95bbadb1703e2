"""Full-text search over documents, in PostgreSQL.

Each document keeps a tsvector (`search_vector`, GIN-indexed): its name weighs A, its tags and
metadata values B, its current version's extracted text C. The 'simple' configuration (no
stemming) suits every language a tenant writes in; words match by prefix ("inv" finds "invoice").
When a search finds nothing, each word is replaced by the most similar words the tenant's
documents hold (pg_trgm, over the SearchWord lexicon) and the search runs again: typos are forgiven.
"""

import html
import re
from dataclasses import dataclass
from datetime import date

from django.db import connection

WORDS = re.compile(r"[^\W_]+")
MAX_WORDS = 8
INDEXED_CHARS = 200_000  # text beyond this is kept but not searched (a tsvector holds at most 1 MB)
HEADLINE_CHARS = 20_000  # snippets come from the start of the text (ts_headline reads all it is given)
CANDIDATES = 1000  # the matching documents ranked, newest first: more would not be read in time
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # never in stored text (processing.NOT_IN_TEXT)

# A file name's separators split words: "q3_report-final.pdf" is found by "report" and "final".
_NAME = r"regexp_replace(d.name, '[_./\\-]+', ' ', 'g')"
REINDEX = f"""
    UPDATE content_document d SET search_vector =
        setweight(to_tsvector('simple', {_NAME}), 'A')
        || setweight(to_tsvector('simple', coalesce(
            (SELECT string_agg(t.name, ' ') FROM content_document_tags dt JOIN content_tag t ON t.id = dt.tag_id
             WHERE dt.document_id = d.id), '')
            || ' ' || coalesce((SELECT string_agg(value, ' ') FROM jsonb_each_text(d.metadata)), '')), 'B')
        || setweight(to_tsvector('simple', left(coalesce(b.text, ''), {INDEXED_CHARS})), 'C')
    FROM content_version v JOIN content_blob b ON b.id = v.blob_id
    WHERE v.id = d.current_id AND d.id = ANY(%s)
"""
# New words go into the lexicon the typo tolerance draws from.
LEXICON = """
    INSERT INTO content_searchword (word)
    SELECT word FROM ts_stat(%s) WHERE length(word) BETWEEN 3 AND 100 AND word !~ '^[0-9]+$'
    ON CONFLICT DO NOTHING
"""
TYPES = {
    "pdf": ("PDF documents", ["application/pdf"]),
    "picture": ("Pictures", ["image/%"]),
    "word": ("Word and text documents", [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/msword",
        "application/vnd.oasis.opendocument.text", "text/plain", "text/markdown",
    ]),
    "spreadsheet": ("Spreadsheets", [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.spreadsheet", "text/csv",
    ]),
    "video": ("Videos", ["video/%"]),
}  # fmt: skip
LIVE = """
    d.trashed_at IS NULL AND (d.folder_id IS NULL OR d.folder_id NOT IN (
        WITH RECURSIVE trashed AS (
            SELECT id FROM content_folder WHERE trashed_at IS NOT NULL
            UNION SELECT f.id FROM content_folder f JOIN trashed ON f.parent_id = trashed.id
        ) SELECT id FROM trashed))
"""
BELOW = """
    WITH RECURSIVE below AS (
        SELECT id FROM content_folder WHERE id = %s
        UNION SELECT f.id FROM content_folder f JOIN below ON f.parent_id = below.id
    ) SELECT id FROM below
"""


@dataclass
class Filters:
    type: str = ""
    tag: str = ""
    folder_id: int | None = None
    owner_id: int | None = None
    changed_from: date | None = None
    changed_to: date | None = None


@dataclass
class Hit:
    document_id: int
    name: str
    mime_type: str
    rank: float
    snippet: str  # safe HTML: the text escaped, only the matched words in <mark>


def documents_reindex(document_ids) -> None:
    """Recomputes the documents' search vectors (after an upload, a change, or processing)."""
    ids = list(document_ids)
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(REINDEX, [ids])
        cursor.execute(LEXICON, [f"SELECT search_vector FROM content_document WHERE id IN ({','.join(map(str, ids))})"])


def words(query: str) -> list[str]:
    return [w.lower() for w in WORDS.findall(query or "")][:MAX_WORDS]


def search(query: str, *, filters: Filters | None = None, limit: int = 50) -> tuple[list[Hit], str]:
    """(the best `limit` live documents for `query`, the query as corrected when it had to be: else "")."""
    wanted = words(query)
    if not wanted:
        return [], ""
    hits = _run(" & ".join(f"'{w}':*" for w in wanted), filters or Filters(), limit)
    if hits:
        return hits, ""
    similar = _similar(wanted)
    alternatives = [similar.get(w, []) for w in wanted]
    if not all(alternatives):
        return [], ""
    tsquery = " & ".join("(" + " | ".join(f"'{w}'" for w in options) + ")" for options in alternatives)
    hits = _run(tsquery, filters or Filters(), limit)
    return hits, (" ".join(options[0] for options in alternatives) if hits else "")


def _similar(wanted: list[str]) -> dict[str, list[str]]:
    """Up to three words of the lexicon most like each wanted word (pg_trgm similarity above its
    threshold; the GiST index walks the nearest first: <-> is 1 - similarity), in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT w.wanted, s.word FROM unnest(%s::text[]) AS w(wanted), LATERAL ("
            " SELECT word, word <-> w.wanted AS distance FROM content_searchword WHERE word %% w.wanted"
            " ORDER BY distance, word LIMIT 3"
            ") s ORDER BY w.wanted, s.distance, s.word",
            [wanted],
        )
        found = {}
        for word, alike in cursor.fetchall():
            if "'" not in alike and "\\" not in alike:
                found.setdefault(word, []).append(alike)
        return found


def _run(tsquery: str, filters: Filters, limit: int) -> list[Hit]:
    where, params = [LIVE, "d.search_vector @@ q.query"], []
    if filters.type in TYPES:
        kinds = " OR ".join("b.mime_type LIKE %s" for _ in TYPES[filters.type][1])
        where.append(
            "EXISTS (SELECT FROM content_version v JOIN content_blob b ON b.id = v.blob_id"
            f" WHERE v.id = d.current_id AND ({kinds}))"
        )
        params += TYPES[filters.type][1]
    if filters.tag:
        where.append(
            "d.id IN (SELECT dt.document_id FROM content_document_tags dt JOIN content_tag t ON t.id = dt.tag_id "
            "WHERE lower(t.name) = lower(%s))"
        )
        params.append(filters.tag)
    if filters.folder_id is not None:
        where.append("d.folder_id = ANY(%s)")  # (a list, not a subquery: the planner sees how many)
        params.append(_below(filters.folder_id))
    if filters.owner_id is not None:
        where.append("d.created_by_id = %s")
        params.append(filters.owner_id)
    if filters.changed_from:
        where.append("d.updated >= %s")
        params.append(filters.changed_from)
    if filters.changed_to:
        where.append("d.updated < %s::date + 1")
        params.append(filters.changed_to)
    # One SELECT (the palette counts one query per provider). The newest CANDIDATES matching
    # documents are ranked (a word in most documents cannot make a search read them all), then
    # the best `limit` get their snippets.
    query = "to_tsquery('simple', %s) AS q(query)"
    sql = f"""SELECT best.id, best.name, b.mime_type, best.rank,
            ts_headline('simple', left(b.text, {HEADLINE_CHARS}), q.query,
                'StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=30, MinWords=12, MaxFragments=2')
        FROM (
            SELECT * FROM (
                SELECT d.id, d.name, d.current_id, ts_rank_cd(d.search_vector, q.query) AS rank
                FROM content_document d, {query}
                WHERE {" AND ".join(where)}
                ORDER BY d.id DESC LIMIT %s
            ) found ORDER BY rank DESC, name LIMIT %s
        ) best JOIN content_version v ON v.id = best.current_id JOIN content_blob b ON b.id = v.blob_id, {query}
        ORDER BY best.rank DESC, best.name
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tsquery, *params, CANDIDATES, limit, tsquery])
        return [Hit(pk, name, mime, rank, snippet(text)) for pk, name, mime, rank, text in cursor.fetchall()]


def _below(folder_id: int) -> list[int]:
    """The folder's id and those of every folder inside it."""
    with connection.cursor() as cursor:
        cursor.execute(BELOW, [folder_id])
        return [row[0] for row in cursor.fetchall()]


def snippet(headline: str) -> str:
    """ts_headline's text as safe HTML: everything escaped, then only its marks made <mark>."""
    escaped = html.escape(" ".join((headline or "").split()))
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")
