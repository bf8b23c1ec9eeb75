"""The Dagster wiring of the project: resources, partitions, and one package per domain."""

import warnings

import dagster as dg

# BackfillPolicy is marked beta in 1.13; single-run backfills are a deliberate design choice.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# Partitioned asset checks are a preview feature in 1.13; the reconciliation checks need them.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
