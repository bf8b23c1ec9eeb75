"""The administration commands of ``analytics-pipeline``: ``api-keys`` (create, list, revoke the
export API's keys), ``orgs list`` and ``directory load`` (the directory of names), ``db`` (the
warehouse: upgrade, stop, url) and ``storage create-buckets``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from analytics_pipeline.cli.shared import connect_warehouse, s3_client


def cmd_api_keys(args) -> int:
    """API keys: ``create`` prints the key (shown once, only its hash is stored) on stdout, alone."""
    from analytics_pipeline.api.keys import create_key, list_keys, revoke_key

    now = datetime.now(UTC)
    with connect_warehouse(autocommit=True) as conn:
        if args.keys_command == "create":
            if bool(args.finance) + bool(args.org) + bool(args.ingest) != 1:
                print("api-keys create: give --org ORG, or --finance for a key that reads every organization, or "
                      "--ingest for a key that only sends events", file=sys.stderr)
                return 2
            try:
                key, new = create_key(conn, name=args.name, organization_id=args.org, finance=args.finance, now=now,
                                      expires_in=timedelta(days=args.expires_days) if args.expires_days else None,
                                      ingest=args.ingest)
            except ValueError as error:
                print(f"api-keys create: {error}", file=sys.stderr)
                return 2
            scope = ("every organization (finance)" if args.finance else
                     "sending events of any organization, reading nothing (ingest)" if args.ingest else
                     f"organization {args.org}")
            expiry = f"expires {key.expires_at:%Y-%m-%dT%H:%MZ}" if key.expires_at else "does not expire"
            print(f"key {key.key_id} ({key.name!r}) for {scope}, {expiry}; it is shown once, below:", file=sys.stderr)
            print(new.token)
        elif args.keys_command == "list":
            keys = list_keys(conn)
            for key in keys:
                state = "revoked" if key.revoked_at else "expired" if not key.usable_at(now) else "active"
                expiry = f"expires {key.expires_at:%Y-%m-%d}" if key.expires_at else "no expiry"
                print(f"{key.key_id}  {state:<7}  {key.scope:<12}  {key.organization_id or '*':<24}  "
                      f"created {key.created_at:%Y-%m-%d}  {expiry:<18}  {key.name}")
            print(f"{len(keys)} key(s)", file=sys.stderr)
        else:
            if not revoke_key(conn, args.key_id, now):
                print(f"api-keys revoke: there is no key {args.key_id}", file=sys.stderr)
                return 1
            print(f"key {args.key_id} revoked", file=sys.stderr)
    return 0


def cmd_orgs(args) -> int:
    """``orgs list``: every organization of the directory or with usage, by name (the id for ``--org``)."""
    from analytics_pipeline.directory.names import list_organizations

    with connect_warehouse(autocommit=True) as conn:
        organizations = list_organizations(conn)
    for org in organizations:
        created = f"{org.created_at:%Y-%m-%d}" if org.created_at else "–"
        print(f"{org.entry_id:<36}  {org.display_name:<28}  {org.detail or '–':<14}  created {created}")
    print(f"{len(organizations)} organization(s)", file=sys.stderr)
    return 0


def cmd_directory(args) -> int:
    """``directory load FILE``: upsert the display names of a directory file."""
    from analytics_pipeline.directory.names import DirectoryFileError, load_directory, read_directory_file

    try:
        directory = read_directory_file(Path(args.file))
    except DirectoryFileError as error:
        print(f"directory load: {error}", file=sys.stderr)
        return 2
    with connect_warehouse(autocommit=True) as conn:
        organizations, models = load_directory(conn, directory, source=str(args.file))
    print(f"directory: {organizations} organizations and {models} models loaded from {args.file}")
    return 0


def cmd_db(args) -> int:
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.warehouse.database import resolve_database_url
    from analytics_pipeline.warehouse.embedded import stop_embedded_postgres
    from analytics_pipeline.warehouse.migrate import current_revision, upgrade

    settings = current_settings()
    if args.db_command == "stop":
        if settings.database_url:
            print("ANALYTICS_DATABASE_URL is set: there is no embedded server to stop")
            return 0
        stopped = stop_embedded_postgres(settings.embedded_pgdata)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    url = resolve_database_url(settings.database_url, settings.embedded_pgdata)
    if args.db_command == "upgrade":
        upgrade(url)
        print(f"warehouse at revision {current_revision(url)}")
    elif args.db_command == "url":
        print(url)
    return 0


def cmd_storage(args) -> int:
    from analytics_pipeline.settings import current_settings
    from analytics_pipeline.storage.object_store import ensure_buckets, s3_buckets_of

    settings = current_settings()
    stores = (settings.logs_url, settings.exports_url, settings.archive_url, settings.focus_costs_url,
              settings.build_metrics_url, settings.metric_streams_url)
    buckets = s3_buckets_of(stores) + list(args.buckets)
    if not buckets:
        print("no store is on S3 and no bucket was named: nothing to create")
        return 0
    created = set(ensure_buckets(s3_client(), buckets))
    for bucket in dict.fromkeys(buckets):
        print(f"{bucket}: {'created' if bucket in created else 'exists'}")
    return 0


def add_api_keys_command(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("api-keys", help="create, list or revoke API keys of the export API")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it (once) on stdout")
    create.add_argument("--org", help="the organization the key reads")
    create.add_argument("--finance", action="store_true", help="a finance-wide key: reads every organization")
    create.add_argument("--ingest", action="store_true",
                        help="an ingest key: sends events of any organization (ingest API, Firehose), reads nothing")
    create.add_argument("--name", required=True, help="who holds it (the jobs' initiatedBy)")
    create.add_argument("--expires-days", type=int, help="days until it expires (default: never)")
    key_commands.add_parser("list", help="list keys (never their secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", metavar="ID", help="the key's id (the part after ak_)")
    keys.set_defaults(func=cmd_api_keys)


def add_directory_commands(commands: argparse._SubParsersAction) -> None:
    orgs = commands.add_parser("orgs", help="organizations of the directory and with usage")
    orgs.add_argument("orgs_command", choices=["list"])
    orgs.set_defaults(func=cmd_orgs)

    directory = commands.add_parser("directory", help="display names of organizations and models")
    directory.add_argument("directory_command", choices=["load"])
    directory.add_argument("file", metavar="FILE", help="a directory file, .json or .toml")
    directory.set_defaults(func=cmd_directory)


def add_warehouse_and_storage_commands(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="warehouse administration")
    db.add_argument("db_command", choices=["upgrade", "stop", "url"])
    db.set_defaults(func=cmd_db)

    storage = commands.add_parser("storage", help="object storage administration")
    storage_commands = storage.add_subparsers(dest="storage_command", required=True)
    create_buckets = storage_commands.add_parser(
        "create-buckets", help="create the bucket of every s3:// store the settings name, and BUCKET ...")
    create_buckets.add_argument("buckets", nargs="*", metavar="BUCKET", help="more buckets (e.g. Dagster's logs)")
    create_buckets.set_defaults(func=cmd_storage)
