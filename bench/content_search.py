"""Content's processing and search.

search_100k_docs_p95_ms: BENCH_SEARCH_DOCS (100,000) documents with extracted text (80 words each,
drawn with Zipf-like frequencies from a vocabulary of 20,000 made-up words, so some words are in
a third of the documents and most in a handful) in a tenant of their own, seeded with COPY and
set-based SQL (blobs, documents, versions, then every search vector in one UPDATE, as the
processing's re-index computes it). Then BENCH_SEARCH_QUERIES (300) varied searches through the
selector the page, the API and the palette call (apps.content.selectors.documents_find, 20
results with snippets): a common word, a rare word, two words, a word's start, a misspelt word
(the trigram fallback), and a common word with a type filter or a folder filter. Figure: p95 (and
p50) in milliseconds; target < 50 ms.

thumbnail_per_s: 12-megapixel JPEGs (4000 × 3000, ~5 MB, photo-like noise) turned into their web
size (1600 px) and thumbnail (320 px) WebPs by apps.content.processing.thumbnails in this one
process, as the worker does for each picture (decoded once, at half size by JPEG's DCT scaling);
pictures per second (and thumbnail_only_per_s: the 320 px one alone, decoded at 1/8).
"""

import io
import itertools
import os
import random
import time

from bench.common import fresh_tenant, log, percentile, report

SLUG = "bench-search"
DOCS = int(os.environ.get("BENCH_SEARCH_DOCS", "100000"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "300"))
WORDS_PER_DOC = 80
SYLLABLES = "ka lo mi ne ru sa ti vo ber dan fel gor han jis kel mur nol pim qua ros sul tev wan xio yel zor".split()


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    words = sorted(words)
    rng.shuffle(words)
    return words


def _seed(schema: str, rng: random.Random, vocabulary: list[str]) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from apps.content.search import LEXICON, REINDEX

    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))
    types = ["application/pdf"] * 5 + ["text/plain"] * 3 + ["image/png"] * 2
    with schema_context(schema), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO content_folder (name, created) SELECT 'Folder ' || i, now() FROM generate_series(1, 20) i"
        )
        with cursor.cursor.copy(
            "COPY content_blob (sha256, size, mime_type, created, status, status_reason, text, renditions,"
            " processed_at) FROM STDIN"
        ) as copy:
            for i in range(DOCS):
                text = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=WORDS_PER_DOC))
                copy.write_row((f"{i:064x}", len(text), types[i % 10], "now", "done", "", text, "[]", "now"))
        cursor.execute(
            "INSERT INTO content_document (name, folder_id, metadata, created, updated)"
            " SELECT initcap(split_part(text, ' ', 1)) || ' ' || id || '.txt',"
            "  (SELECT min(id) FROM content_folder) + id % 20, '{}', now() - (id % 365) * interval '1 day', now()"
            " FROM content_blob ORDER BY id"
        )
        cursor.execute(
            "INSERT INTO content_version (document_id, number, blob_id, note, created)"
            " SELECT d.id, 1, b.id, '', now() FROM"
            " (SELECT id, row_number() OVER (ORDER BY id) n FROM content_document) d JOIN"
            " (SELECT id, row_number() OVER (ORDER BY id) n FROM content_blob) b USING (n)"
        )
        cursor.execute(
            "UPDATE content_document d SET current_id = v.id FROM content_version v WHERE v.document_id = d.id"
        )
        log(f"search: {DOCS:,} documents with their text in {time.perf_counter() - started:.1f} s; indexing")
        started = time.perf_counter()
        cursor.execute("SELECT array_agg(id) FROM content_document")
        ids = cursor.fetchone()[0]
        cursor.execute(REINDEX, [ids])
        cursor.execute(LEXICON, ["SELECT search_vector FROM content_document"])
        cursor.execute("ANALYZE")
        log(f"search: search vectors and the lexicon in {time.perf_counter() - started:.1f} s")


KINDS = ["common word", "rare word", "two words", "a word's start", "misspelt word", "with type", "with folder"]


def _queries(rng: random.Random, vocabulary: list[str], folder_ids: list[int]):
    from apps.content.search import Filters

    common, rare = vocabulary[:50], vocabulary[5000:]
    kinds = [
        lambda: (rng.choice(common), Filters()),
        lambda: (rng.choice(rare), Filters()),
        lambda: (f"{rng.choice(common)} {rng.choice(vocabulary[:2000])}", Filters()),
        lambda: (rng.choice(vocabulary[:3000])[:4], Filters()),
        lambda: (_typo(rng, rng.choice(vocabulary[:3000])), Filters()),
        lambda: (rng.choice(common), Filters(type="pdf")),
        lambda: (rng.choice(common), Filters(folder_id=rng.choice(folder_ids))),
    ]
    return [(KINDS[i % len(kinds)], *kinds[i % len(kinds)]()) for i in range(QUERIES)]


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped


def search_100k_docs_p95_ms() -> None:
    from django_tenants.utils import schema_context

    from apps.content import selectors
    from apps.content.models import Folder

    rng = random.Random(14)
    vocabulary = _vocabulary(rng)
    with fresh_tenant(SLUG, "Bench Search") as tenant:
        _seed(tenant.schema_name, rng, vocabulary)
        with schema_context(tenant.schema_name):
            queries = _queries(rng, vocabulary, list(Folder.objects.values_list("pk", flat=True)))
            for _, query, filters in queries[:20]:  # warm-up
                selectors.documents_find(query=query, filters=filters, limit=20)
            times, found, by_kind = [], 0, {}
            for kind, query, filters in queries:
                started = time.perf_counter()
                hits, _ = selectors.documents_find(query=query, filters=filters, limit=20)
                times.append((time.perf_counter() - started) * 1000)
                by_kind.setdefault(kind, []).append(times[-1])
                found += bool(hits)
    log(f"search: {QUERIES} queries over {DOCS:,} documents, {found} found something")
    for kind, kind_times in by_kind.items():
        log(f"search:   {kind}: p50 {percentile(kind_times, 50):.1f} ms, p95 {percentile(kind_times, 95):.1f} ms")
    report("search_100k_docs_p95_ms", percentile(times, 95), "ms")
    report("search_100k_docs_p50_ms", percentile(times, 50), "ms")


def thumbnail_per_s() -> None:
    from PIL import Image

    from apps.content.processing import SIZES, thumbnails

    rng = random.Random(12)
    pictures = []
    for _ in range(3):  # a photo-like picture: gradients with noise (JPEG cannot shrink it to nothing)
        base = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
        noise = Image.effect_noise((4000, 3000), rng.randint(20, 60)).convert("RGB")
        out = io.BytesIO()
        Image.blend(base, noise, 0.4).save(out, "JPEG", quality=90)
        pictures.append(out.getvalue())
    log(f"thumbnails: 12 MP JPEGs of {sum(map(len, pictures)) // len(pictures) // 1024:,} KB")
    for only in (False, True):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < 15 or count < 10:
            data = pictures[count % len(pictures)]
            thumbnails(io.BytesIO(data), {"thumb": SIZES["thumb"]} if only else SIZES)
            count += 1
        rate = count / (time.perf_counter() - started)
        report("thumbnail_only_per_s" if only else "thumbnail_per_s", rate, "pictures/s")
