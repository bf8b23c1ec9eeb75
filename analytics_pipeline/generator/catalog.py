"""Fixed model catalog and organization ids for the synthetic usage-log generator.

Pure Python, no Dagster imports.  Everything here is deterministic:

* model ids are ``uuid5(MODEL_NAMESPACE, name)`` so they never change between
  runs, machines or Python versions;
* organization ids are ``uuid5(ORGANIZATION_NAMESPACE, f"org-{seed}-{i}")`` so
  ``organization_ids(n, seed)`` is a prefix of ``organization_ids(n + k, seed)``.

The prices on :class:`Model` are the list prices in force from
:data:`BASE_EFFECTIVE_FROM`.  Later price changes live in :data:`PRICE_CHANGES`
and the fallback price for requests without a (known) model is
:data:`DEFAULT_PRICE`.  ``analytics_pipeline/price_catalog.csv`` is the rendered
form of all three (see :func:`render_price_catalog_csv`); a test keeps the two
in sync.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

__all__ = [
    "BASE_EFFECTIVE_FROM",
    "DEFAULT_MODEL_KEY",
    "DEFAULT_PRICE",
    "MODELS",
    "MODELS_BY_ID",
    "MODELS_BY_NAME",
    "MODEL_NAMESPACE",
    "ORGANIZATION_NAMESPACE",
    "PRICE_CATALOG_COLUMNS",
    "PRICE_CATALOG_PATH",
    "PRICE_CHANGES",
    "Model",
    "Price",
    "PriceChange",
    "model_id_for",
    "organization_ids",
    "price_catalog_rows",
    "render_price_catalog_csv",
]

#: Namespace for model ids (uuid5(NAMESPACE_URL, "https://models.analytics-pipeline.example/")).
MODEL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://models.analytics-pipeline.example/")
#: Namespace for organization ids.
ORGANIZATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://orgs.analytics-pipeline.example/")

#: ``effective_from`` of the initial price of every model and of the default row.
BASE_EFFECTIVE_FROM = "2025-01-01T00:00:00Z"
#: ``model_id`` value of the default price row (model-less or unknown-model requests).
DEFAULT_MODEL_KEY = "*"

PRICE_CATALOG_COLUMNS = (
    "model_id",
    "effective_from",
    "price_per_request",
    "price_per_1k_input_tokens",
    "price_per_1k_output_tokens",
)
#: Location of the checked-in price catalog CSV.
PRICE_CATALOG_PATH = Path(__file__).resolve().parent.parent / "price_catalog.csv"


def model_id_for(name: str) -> str:
    """Deterministic model id for a readable model name."""
    return str(uuid.uuid5(MODEL_NAMESPACE, name))


@dataclass(frozen=True)
class Model:
    """A catalog model with its initial (``BASE_EFFECTIVE_FROM``) list price."""

    model_id: str
    name: str
    price_per_request: Decimal
    price_per_1k_input_tokens: Decimal
    price_per_1k_output_tokens: Decimal


@dataclass(frozen=True)
class Price:
    price_per_request: Decimal
    price_per_1k_input_tokens: Decimal
    price_per_1k_output_tokens: Decimal


@dataclass(frozen=True)
class PriceChange:
    """A price that replaces a model's previous price from ``effective_from`` on."""

    model_id: str
    effective_from: str  # ISO-8601 UTC with "Z"
    price: Price


def _model(name: str, per_request: str, per_1k_in: str, per_1k_out: str) -> Model:
    return Model(
        model_id=model_id_for(name),
        name=name,
        price_per_request=Decimal(per_request),
        price_per_1k_input_tokens=Decimal(per_1k_in),
        price_per_1k_output_tokens=Decimal(per_1k_out),
    )


#: The fixed catalog.  ``generate_usage_logs(models=k)`` uses ``MODELS[:k]``,
#: so the order matters: the most common models come first.
MODELS: tuple[Model, ...] = (
    _model("atlas-large", "0.0002", "0.003", "0.015"),
    _model("atlas-medium", "0.0001", "0.0008", "0.004"),
    _model("atlas-small", "0.00005", "0.00015", "0.0006"),
    _model("nimbus-flash", "0.00002", "0.000075", "0.0003"),
    _model("nimbus-pro", "0.0003", "0.005", "0.02"),
    _model("orca-code", "0.0001", "0.0015", "0.006"),
    _model("orca-reasoner", "0.0005", "0.01", "0.04"),
    _model("lumen-vision", "0.00025", "0.0025", "0.01"),
)

MODELS_BY_ID: dict[str, Model] = {m.model_id: m for m in MODELS}
MODELS_BY_NAME: dict[str, Model] = {m.name: m for m in MODELS}

#: Fallback price for requests without a model or with a model not in the catalog.
DEFAULT_PRICE = Price(
    price_per_request=Decimal("0.0001"),
    price_per_1k_input_tokens=Decimal("0.002"),
    price_per_1k_output_tokens=Decimal("0.008"),
)

#: Price changes after ``BASE_EFFECTIVE_FROM`` (one price cut for atlas-large).
PRICE_CHANGES: tuple[PriceChange, ...] = (
    PriceChange(
        model_id=model_id_for("atlas-large"),
        effective_from="2026-06-15T12:00:00Z",
        price=Price(
            price_per_request=Decimal("0.00015"),
            price_per_1k_input_tokens=Decimal("0.0025"),
            price_per_1k_output_tokens=Decimal("0.0125"),
        ),
    ),
)


def _fmt(value: Decimal) -> str:
    # Plain notation (never "2E-5"), at most 6 decimals.
    if value != value.quantize(Decimal("0.000001")):
        raise ValueError(f"price {value} has more than 6 decimals")
    return f"{value.normalize():f}"


def price_catalog_rows() -> list[dict[str, str]]:
    """Rows of the price catalog CSV, as strings, in file order."""
    rows = [
        {
            "model_id": m.model_id,
            "effective_from": BASE_EFFECTIVE_FROM,
            "price_per_request": _fmt(m.price_per_request),
            "price_per_1k_input_tokens": _fmt(m.price_per_1k_input_tokens),
            "price_per_1k_output_tokens": _fmt(m.price_per_1k_output_tokens),
        }
        for m in MODELS
    ]
    rows.append(
        {
            "model_id": DEFAULT_MODEL_KEY,
            "effective_from": BASE_EFFECTIVE_FROM,
            "price_per_request": _fmt(DEFAULT_PRICE.price_per_request),
            "price_per_1k_input_tokens": _fmt(DEFAULT_PRICE.price_per_1k_input_tokens),
            "price_per_1k_output_tokens": _fmt(DEFAULT_PRICE.price_per_1k_output_tokens),
        }
    )
    for change in PRICE_CHANGES:
        rows.append(
            {
                "model_id": change.model_id,
                "effective_from": change.effective_from,
                "price_per_request": _fmt(change.price.price_per_request),
                "price_per_1k_input_tokens": _fmt(change.price.price_per_1k_input_tokens),
                "price_per_1k_output_tokens": _fmt(change.price.price_per_1k_output_tokens),
            }
        )
    return rows


def render_price_catalog_csv() -> str:
    """The exact text of ``price_catalog.csv`` (``\\n`` line endings)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=PRICE_CATALOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(price_catalog_rows())
    return buf.getvalue()


def organization_ids(n: int, seed: int) -> list[str]:
    """``n`` distinct, deterministic organization UUID strings for ``seed``."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return [str(uuid.uuid5(ORGANIZATION_NAMESPACE, f"org-{seed}-{i}")) for i in range(n)]


if __name__ == "__main__":  # pragma: no cover - regenerate the CSV by hand
    PRICE_CATALOG_PATH.write_text(render_price_catalog_csv(), encoding="utf-8")
    print(f"wrote {PRICE_CATALOG_PATH}")
