"""``analytics-pipeline``: the command line of the project.

    analytics-pipeline demo         generate a month of data and run the whole pipeline on it
    analytics-pipeline ui           the Dagster UI on the same data (embedded PostgreSQL)
    analytics-pipeline generate     write synthetic usage logs (--send http|firehose|kinesis: through a live path)
    analytics-pipeline export       request an ad hoc export (--org --start --end [--wait]), or --list jobs
    analytics-pipeline api          the export API (FastAPI on uvicorn)
    analytics-pipeline api-keys     create, list and revoke API keys of the export API
    analytics-pipeline orgs list    organizations: id, display name, plan, created (the directory)
    analytics-pipeline directory load FILE   display names of organizations and models (JSON or TOML)
    analytics-pipeline consume --stream NAME   load a Kinesis data stream continuously (--status: its shards)
    analytics-pipeline db upgrade   apply migrations;  db stop: stop the embedded server;  db url
    analytics-pipeline storage create-buckets [BUCKET ...]   the bucket of every s3:// store, and these
    analytics-pipeline alerts       platform alerts: list [--open], ack KEY, evaluate
    analytics-pipeline trace        REQUEST_ID [--org ORG]: where a request came from and what became of it
"""

from __future__ import annotations

import argparse

from analytics_pipeline.cli.admin import (
    add_api_keys_command,
    add_directory_commands,
    add_warehouse_and_storage_commands,
)
from analytics_pipeline.cli.demo import add_demo_command
from analytics_pipeline.cli.exports import add_export_command
from analytics_pipeline.cli.generate import add_generate_command
from analytics_pipeline.cli.oncall import add_oncall_commands
from analytics_pipeline.cli.services import add_api_command, add_consume_command, add_ui_command


def build_parser() -> argparse.ArgumentParser:
    """The command line: each command's parser is declared beside the command (in this order in the help)."""
    parser = argparse.ArgumentParser(prog="analytics-pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for add_commands in (add_demo_command, add_generate_command, add_ui_command, add_export_command,
                         add_api_command, add_api_keys_command, add_directory_commands, add_consume_command,
                         add_warehouse_and_storage_commands, add_oncall_commands):
        add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
