"""The demo's directory file (:mod:`analytics_pipeline.directory.names`): a readable, deterministic
name for each generated organization and the catalog's names for its models."""

from __future__ import annotations

import json
from datetime import date, timedelta

from analytics_pipeline.generator.catalog import BASE_EFFECTIVE_FROM, MODELS, organization_ids

_FIRST = ("Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent",
          "Hooli", "Pied Piper", "Vandelay", "Wonka", "Oscorp", "Aperture", "Massive", "Blue Sun", "Gringotts",
          "Monarch")
_SECOND = ("Analytics", "Labs", "Systems", "Health", "Logistics", "Media", "Finance", "Robotics", "Retail",
           "Energy")
_PLANS = ("enterprise", "team", "pay-as-you-go")


def organization_name(index: int) -> str:
    """The ``index``-th generated organization's name (distinct for the first 200)."""
    return f"{_FIRST[index % len(_FIRST)]} {_SECOND[(index // len(_FIRST) + index) % len(_SECOND)]}"


def demo_directory(orgs: int, seed: int, first_day: date) -> dict:
    """The directory document of ``orgs`` generated organizations (created before ``first_day``) and
    every catalog model."""
    return {
        "organizations": {
            organization_id: {"name": organization_name(i), "plan": _PLANS[i % len(_PLANS)],
                              "created": (first_day - timedelta(days=30 + 7 * i)).isoformat()}
            for i, organization_id in enumerate(organization_ids(orgs, seed))},
        "models": {
            model.model_id: {"name": model.name, "provider": model.name.split("-")[0].capitalize(),
                             "created": BASE_EFFECTIVE_FROM[:10]}
            for model in MODELS},
    }


def directory_bytes(document: dict) -> bytes:
    return json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"
