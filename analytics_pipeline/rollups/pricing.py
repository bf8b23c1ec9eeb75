"""The model price catalog: an effective-dated CSV, shipped in the package, overridable.

Columns: ``model_id, effective_from, price_per_request, price_per_1k_input_tokens,
price_per_1k_output_tokens``. ``model_id`` ``*`` prices requests of a missing or unlisted
model. Prices are Decimals end to end; the warehouse stores them as ``numeric``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import psycopg

from analytics_pipeline.warehouse.sql import load_sql

SHIPPED_CATALOG = Path(__file__).resolve().parents[1] / "price_catalog.csv"
DEFAULT_MODEL = "*"
COLUMNS = ("model_id", "effective_from", "price_per_request", "price_per_1k_input_tokens", "price_per_1k_output_tokens")


class PriceCatalogError(ValueError):
    """The catalog cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class ModelPrice:
    model_id: str
    effective_from: datetime
    price_per_request: Decimal
    price_per_1k_input_tokens: Decimal
    price_per_1k_output_tokens: Decimal


def read_catalog_text(location: str | None) -> str:
    """The catalog's text from a path or an http(s) URL; None means the shipped catalog."""
    if location is None:
        return SHIPPED_CATALOG.read_text()
    if location.startswith(("http://", "https://")):
        with urllib.request.urlopen(location, timeout=30) as response:  # noqa: S310 (scheme checked)
            return response.read().decode("utf-8")
    return Path(location).expanduser().read_text()


def catalog_digest(text: str) -> str:
    """The sha256 of a catalog's text: what tells one version of the catalog from another."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_catalog(text: str) -> list[ModelPrice]:
    """Parse and validate the catalog; raises :class:`PriceCatalogError` with the line number."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise PriceCatalogError(f"price catalog header must be {','.join(COLUMNS)}, got {reader.fieldnames}")
    prices: list[ModelPrice] = []
    seen: set[tuple[str, datetime]] = set()
    for line, row in enumerate(reader, start=2):
        try:
            effective_from = datetime.fromisoformat(row["effective_from"])
            amounts = [Decimal(row[c]) for c in COLUMNS[2:]]
        except (ValueError, InvalidOperation) as error:
            raise PriceCatalogError(f"price catalog line {line}: {error}") from None
        if effective_from.tzinfo is None:
            raise PriceCatalogError(f"price catalog line {line}: effective_from needs a time zone")
        # Rollups price whole (hour, model) groups, so a price must hold for whole hours.
        if effective_from.timestamp() % 3600:
            raise PriceCatalogError(f"price catalog line {line}: effective_from {row['effective_from']} "
                                    "must be on the hour (prices change at hh:00:00)")
        if any(not a.is_finite() or a < 0 for a in amounts):
            raise PriceCatalogError(f"price catalog line {line}: prices must be finite and >= 0")
        if not row["model_id"]:
            raise PriceCatalogError(f"price catalog line {line}: empty model_id")
        if (row["model_id"], effective_from) in seen:
            raise PriceCatalogError(f"price catalog line {line}: duplicate {row['model_id']} at {effective_from}")
        seen.add((row["model_id"], effective_from))
        prices.append(ModelPrice(row["model_id"], effective_from, *amounts))
    if not any(p.model_id == DEFAULT_MODEL for p in prices):
        raise PriceCatalogError("price catalog needs a '*' row for requests of unlisted models")
    return prices


def replace_model_prices(conn: psycopg.Connection, prices: list[ModelPrice]) -> None:
    """Make ``analytics_model_prices`` exactly ``prices``, in the caller's transaction."""
    conn.execute(load_sql("rollups/delete_model_prices"))
    with conn.cursor() as cursor:
        cursor.executemany(load_sql("rollups/upsert_model_price"), [p.__dict__ for p in prices])
