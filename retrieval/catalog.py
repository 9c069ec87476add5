"""Catalog ingestion: read product files into a Store, validating every row.

Formats: `demo` (the built-in generator), `amazon_in` (the amazon.in scrape: ₹ prices, `|`
category paths, one review per row, duplicate product rows merged), `taubench_retail` (a folder in
tau-bench's retail layout: one product per product type, its variants' options as attributes, plus the
users and their orders), and generic `csv`, `jsonl`, `parquet` with a field->column mapping. Every rejected, repaired or merged row is reported with
file, line and reason; `strict=True` turns any such row into a `CatalogError`. Nothing is dropped
silently. This module knows nothing about indexing or search.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from retrieval.text import cjk_count
from retrieval.schema import Product, Review
from retrieval.store import Store

PRODUCT_FIELDS = ("product_id", "title", "description", "category", "brand", "price", "currency",
                  "list_price", "rating", "rating_count", "image_url", "attributes", "lang")
FORMATS = ("demo", "amazon_in", "taubench_retail", "csv", "jsonl", "parquet")


class CatalogError(ValueError):
    """A catalog that cannot be ingested as asked (unreadable file, or any bad row under --strict)."""


@dataclass
class RowIssue:
    file: str
    line: int
    action: str  # rejected | repaired | merged
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.action}: {self.reason}"


@dataclass
class IngestReport:
    rows_read: int = 0
    products: int = 0
    reviews: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for i in self.issues if i.action == action)

    def summary(self) -> str:
        return (f"{self.rows_read} rows read -> {self.products} products, {self.reviews} reviews; "
                f"{self.count('rejected')} rejected, {self.count('repaired')} repaired, "
                f"{self.count('merged')} merged")

    def to_dict(self) -> dict[str, Any]:
        return {"rows_read": self.rows_read, "products": self.products, "reviews": self.reviews,
                "issues": [vars(i) for i in self.issues]}


_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def parse_price(value: Any) -> float | None:
    """'₹1,099' -> 1099.0, '$12.50' -> 12.5, 'Rs. 799' -> 799.0, 3 -> 3.0; None when empty.

    Raises ValueError for text that holds no number or more than one number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    if "." not in text and re.search(r"\d,\d{1,2}(?!\d)\D*$", text):
        text = text.replace(",", ".")  # decimal comma: '12,50 €'
    # thousands separators, including Indian lakh grouping: '₹1,39,900'
    cleaned = re.sub(r"(?<=\d)[,\u00a0\s'](?=\d)", "", text)
    nums = _NUM.findall(cleaned)
    if len(nums) != 1:
        raise ValueError(f"not a price: {text!r}")
    return float(nums[0])


def parse_number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    return float(text)  # ValueError on junk


def _lang_of(text: str) -> str:
    """A product text's language: Chinese when a sixth of it is Chinese (titles mix in brand names and units)."""
    cjk = cjk_count(text)
    return "zh" if cjk >= max(2, len(text) * 0.15) else "en"


class _RowBuilder:
    """Turns one raw row (already mapped to product field names) into a Product, recording issues."""

    def __init__(self, file: str, report: IngestReport):
        self.file, self.report = file, report

    def issue(self, line: int, action: str, reason: str) -> None:
        self.report.issues.append(RowIssue(self.file, line, action, reason))

    def build(self, row: dict[str, Any], line: int) -> Product | None:
        pid = str(row.get("product_id") or "").strip()
        title = str(row.get("title") or "").strip()
        if not pid:
            self.issue(line, "rejected", "missing product_id")
            return None
        if not title:
            self.issue(line, "rejected", f"product {pid}: missing title")
            return None
        try:
            price = parse_price(row.get("price"))
        except ValueError as e:
            self.issue(line, "rejected", f"product {pid}: non-numeric price ({e})")
            return None
        if price is None and "price" in row:  # the catalog has prices: a product without one cannot be sold
            self.issue(line, "rejected", f"product {pid}: required field price is empty")
            return None
        if price is not None and price < 0:
            self.issue(line, "rejected", f"product {pid}: negative price {price}")
            return None
        try:
            list_price = parse_price(row.get("list_price"))
        except ValueError as e:
            self.issue(line, "repaired", f"product {pid}: list_price dropped ({e})")
            list_price = None
        if list_price is not None and price is not None and list_price < price:
            self.issue(line, "repaired", f"product {pid}: list_price {list_price} < price {price}; set to price")
            list_price = price
        rating = self._number(row, "rating", pid, line, lo=0.0, hi=5.0)
        count = self._number(row, "rating_count", pid, line, lo=0.0, hi=None)
        category = row.get("category") or []
        if isinstance(category, str):
            category = [c.strip() for c in re.split(r"[|>/]", category) if c.strip()]
        attributes = row.get("attributes") or {}
        if isinstance(attributes, str):
            try:
                attributes = json.loads(attributes)
            except json.JSONDecodeError:
                self.issue(line, "repaired", f"product {pid}: attributes are not JSON; kept as text")
                attributes = {"text": attributes}
        text = f"{title} {row.get('description') or ''}"
        return Product(
            product_id=pid, title=title, description=str(row.get("description") or "").strip(),
            category=list(category), brand=str(row.get("brand") or "").strip() or title.split()[0],
            price=price, currency=str(row.get("currency") or "INR"), list_price=list_price,
            rating=rating, rating_count=int(count) if count is not None else None,
            image_url=str(row.get("image_url") or ""), attributes=dict(attributes),
            lang=str(row.get("lang") or _lang_of(text)),
        )

    def _number(self, row: dict, key: str, pid: str, line: int, lo: float, hi: float | None) -> float | None:
        raw = row.get(key)
        try:
            value = parse_number(raw)
        except ValueError:
            self.issue(line, "repaired", f"product {pid}: {key} {raw!r} is not a number; left empty")
            return None
        if value is not None and (value < lo or (hi is not None and value > hi)):
            self.issue(line, "repaired", f"product {pid}: {key} {value} out of range; left empty")
            return None
        return value


def _merge(store: Store, product: Product, builder: _RowBuilder, line: int) -> None:
    old = store.products.get(product.product_id)
    if old is None:
        store.products[product.product_id] = product
        return
    if old.price != product.price:
        builder.issue(line, "merged", f"duplicate product {product.product_id} with conflicting price "
                                      f"{product.price} (kept {old.price} from the first row)")
    else:
        builder.issue(line, "merged", f"duplicate product {product.product_id} merged into its first row")
    if len(product.description) > len(old.description):
        old.description = product.description


# ---- raw readers: yield (line_number, dict) ------------------------------------------------------

def _decode(path: Path) -> tuple[str, list[int]]:
    """Decode UTF-8, replacing invalid bytes; return the text and the 1-based lines that had any."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    bad_lines = []
    for i, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            raw_line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.append(i)
    return data.decode("utf-8", errors="replace"), bad_lines


def _read_csv(path: Path, builder: _RowBuilder) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records of a CSV file with the line each starts on. Structural damage is reported, never loaded: a
    record whose field count differs from the header's, and a quote left open that swallows the lines after
    it (those lines are then read again as rows of their own)."""
    text, _ = _decode(path)
    lines = io.StringIO(text, newline="").readlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise CatalogError(f"{path}: the file is empty (no header, no products)")
    header = next(csv.reader([lines[first]]))
    i = first + 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        reader = csv.reader(itertools.islice(lines, i, None))
        row = next(reader)
        used = reader.line_num
        problem = _structure_problem(row, len(header), lines[i + 1:i + used], i + 1)
        if problem:
            builder.report.rows_read += 1
            builder.issue(i + 1, "rejected", problem)
            i += 1 if used > 1 else used  # the lines a broken quote swallowed are read again
            continue
        yield i + 1, dict(zip(header, row))
        i += used


def _structure_problem(row: list[str], width: int, swallowed: list[str], line: int) -> str | None:
    """Why a CSV record cannot be trusted, or None: wrong field count, or an open quote that ran over rows."""
    if swallowed and (len(row) != width or any(len(next(csv.reader([s]), [])) == width for s in swallowed)):
        return (f"a quote opened on line {line} is not closed before line {line + len(swallowed)}: the record "
                f"swallowed {len(swallowed)} more line(s) ({len(row)} fields; the header has {width})")
    if len(row) != width:
        return f"{len(row)} fields where the header has {width}" + (" (a comma inside an unquoted value?)"
                                                                   if len(row) > width else "")
    return None


def _read_jsonl(path: Path, builder: _RowBuilder) -> Iterator[tuple[int, dict[str, Any]]]:
    text, _ = _decode(path)
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            builder.issue(i, "rejected", f"invalid JSON ({e.msg})")
            continue
        if not isinstance(row, dict):
            builder.issue(i, "rejected", "JSON line is not an object")
            continue
        yield i, row


def _read_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pandas as pd

    for i, row in enumerate(pd.read_parquet(path).to_dict(orient="records"), start=1):
        yield i, row


def _apply_map(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k in PRODUCT_FIELDS}
    for fld, col in mapping.items():
        out[fld] = row.get(col)
    return out


# ---- public loaders ---------------------------------------------------------------------------------

def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """['product_id=doc_id', 'title=title'] -> {'product_id': 'doc_id', 'title': 'title'}."""
    mapping = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CatalogError(f"--map expects field=column, got {pair!r}")
        fld, col = pair.split("=", 1)
        if fld not in PRODUCT_FIELDS:
            raise CatalogError(f"--map: unknown product field {fld!r}; known: {', '.join(PRODUCT_FIELDS)}")
        mapping[fld] = col
    return mapping


def load_catalog(path: str | Path | None, fmt: str | None = None, mapping: dict[str, str] | None = None,
                 strict: bool = False) -> tuple[Store, IngestReport]:
    """Load a catalog into a Store. `fmt` is guessed from the suffix when not given."""
    report = IngestReport()
    if fmt == "demo" or path in (None, "demo"):
        from retrieval.demo_store import build_demo_store

        store = build_demo_store()
        report.products, report.reviews, report.rows_read = len(store.products), len(store.reviews), len(store.products)
        return store, report
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"catalog file not found: {path}")
    fmt = fmt or {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}.get(path.suffix.lower())
    if fmt not in FORMATS:
        raise CatalogError(f"unknown catalog format {fmt!r} for {path}; use one of {', '.join(FORMATS)}")
    if fmt == "taubench_retail":
        from retrieval.catalog_taubench import load_taubench_retail

        store = load_taubench_retail(path, _RowBuilder(str(path / "products.json"), report))
        return _finish(store, report, path, strict)
    builder = _RowBuilder(str(path), report)
    _, bad_lines = _decode(path) if fmt != "parquet" else ("", [])
    for line in bad_lines:
        builder.issue(line, "repaired", "invalid UTF-8 bytes replaced with U+FFFD")
    store = Store(name=path.stem)
    if fmt == "amazon_in":
        _load_amazon_in(path, store, builder)
    else:
        rows = {"csv": lambda: _read_csv(path, builder), "jsonl": lambda: _read_jsonl(path, builder),
                "parquet": lambda: _read_parquet(path)}[fmt]()
        for line, raw in rows:
            report.rows_read += 1
            product = builder.build(_apply_map(raw, mapping or {}), line)
            if product is not None:
                _merge(store, product, builder, line)
    return _finish(store, report, path, strict)


def _finish(store: Store, report: IngestReport, path: Path, strict: bool) -> tuple[Store, IngestReport]:
    report.products, report.reviews = len(store.products), len(store.reviews)
    report.issues.sort(key=lambda i: i.line)
    if not store.products:
        raise CatalogError(_no_products(path, report))
    bad = [i for i in report.issues if i.action in ("rejected", "repaired")]
    if strict and bad:  # merged duplicates are how some formats list reviews: not a problem row
        raise CatalogError(f"{len(bad)} problem rows in {path} (--strict):\n" + "\n".join(str(i) for i in bad))
    return store, report


def _no_products(path: Path, report: IngestReport) -> str:
    if report.rows_read == 0:
        return f"{path}: no products: the file has a header but no rows"
    first = report.issues[0] if report.issues else None
    return (f"{path}: no products: all {report.rows_read} rows were rejected"
            + (f"; the first one: {first}" if first else ""))


AMAZON_IN_MAP = {"product_id": "product_id", "title": "product_name", "category": "category",
                 "price": "discounted_price", "list_price": "actual_price", "rating": "rating",
                 "rating_count": "rating_count", "description": "about_product", "image_url": "img_link"}


def _load_amazon_in(path: Path, store: Store, builder: _RowBuilder) -> None:
    seen_reviews: set[tuple[str, str]] = set()
    for line, raw in _read_csv(path, builder):
        builder.report.rows_read += 1
        row = _apply_map(raw, AMAZON_IN_MAP)
        row["description"] = " ".join(s.strip() for s in str(row.get("description") or "").split("|") if s.strip())
        row["currency"] = "INR"
        row["lang"] = "en"
        product = builder.build(row, line)
        if product is None:
            continue
        _merge(store, product, builder, line)
        text = str(raw.get("review_content") or "").strip()
        rid = str(raw.get("review_id") or "").split(",")[0].strip() or f"{product.product_id}-r{line}"
        if text and (product.product_id, rid) not in seen_reviews:
            seen_reviews.add((product.product_id, rid))
            store.reviews.append(Review(review_id=rid, product_id=product.product_id,
                                        user_id=str(raw.get("user_id") or "").split(",")[0].strip(),
                                        rating=None, title=str(raw.get("review_title") or "").strip(),
                                        text=text, lang="en"))
