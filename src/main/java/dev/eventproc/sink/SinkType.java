package dev.eventproc.sink;

/** The sink adapters, as written in {@code sink.type}. */
public enum SinkType {
  /** Delta Lake table (MERGE or append with Delta transaction ids). */
  DELTA,
  /** PostgreSQL table (COPY-staged upserts committed with a ledger row in one transaction). */
  POSTGRES,
  /** Apache Iceberg table (MERGE with the batch recorded in the snapshot summary). */
  ICEBERG,
  /** Parquet or JSON files, one directory per batch renamed into place. */
  FILES,
  /** Kafka topic (records and the batch's progress in one Kafka transaction). */
  KAFKA;
}
