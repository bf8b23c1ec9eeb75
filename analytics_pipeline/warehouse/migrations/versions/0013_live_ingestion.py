"""The live paths (issue 20): ingest keys, one batch per key, Kinesis shard checkpoints and leases.

* ``analytics_api_keys.scope`` gains ``ingest``: a key that writes events for any organization
  (the ingest API, Firehose deliveries) and reads nothing.
* An ingest API batch's idempotency key and a Firehose request id name one batch: the ledger
  (``analytics_ingested_objects``) holds at most one entry per such key, so the same key with
  other lines is refused instead of loaded twice.
* ``analytics_stream_shards``: per Kinesis shard, the last sequence number loaded (written in the
  transaction of the rows it covers), whether the shard is drained (closed and read to its end),
  its lease (holder and expiry: consumers share a stream; a dead holder's lease runs out) and
  its progress (records loaded, milliseconds behind the stream's tip).
* ``analytics_stream_consumers``: the consumers alive on a stream (each renews its row every
  round), so each takes a fair share of the shards and hands back the rest.

"""

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE analytics_api_keys DROP CONSTRAINT analytics_api_keys_scope_check;
        ALTER TABLE analytics_api_keys ADD CONSTRAINT analytics_api_keys_scope_check
            CHECK (scope IN ('organization', 'finance', 'ingest'));
        COMMENT ON TABLE analytics_api_keys IS
            'API keys (ak_<key_id>_<secret>): only sha256(secret) stored; finance scope reads all organizations; '
            'ingest scope writes events and reads nothing';

        CREATE UNIQUE INDEX analytics_ingested_objects_one_batch_per_key
            ON analytics_ingested_objects (source, object_key) WHERE source IN ('ingest_api', 'firehose');

        CREATE TABLE analytics_stream_shards (
            stream_name          text        NOT NULL,
            shard_id             text        NOT NULL,
            parent_shard_ids     text[]      NOT NULL DEFAULT '{}',
            checkpoint_sequence  text,
            drained              boolean     NOT NULL DEFAULT false,
            lease_owner          text,
            lease_expires_at     timestamptz,
            records_loaded       bigint      NOT NULL DEFAULT 0,
            millis_behind_latest bigint,
            last_loaded_at       timestamptz,
            PRIMARY KEY (stream_name, shard_id)
        );
        COMMENT ON TABLE analytics_stream_shards IS
            'Kinesis shards read by analytics-pipeline consume: checkpoint (committed with the rows), lease, progress';

        CREATE TABLE analytics_stream_consumers (
            stream_name  text        NOT NULL,
            consumer_id  text        NOT NULL,
            alive_until  timestamptz NOT NULL,
            PRIMARY KEY (stream_name, consumer_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE analytics_stream_consumers;
        DROP TABLE analytics_stream_shards;
        DROP INDEX analytics_ingested_objects_one_batch_per_key;
        DELETE FROM analytics_api_keys WHERE scope = 'ingest';
        ALTER TABLE analytics_api_keys DROP CONSTRAINT analytics_api_keys_scope_check;
        ALTER TABLE analytics_api_keys ADD CONSTRAINT analytics_api_keys_scope_check
            CHECK (scope IN ('organization', 'finance'));
        """
    )
