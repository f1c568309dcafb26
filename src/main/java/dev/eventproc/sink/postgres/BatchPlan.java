package dev.eventproc.sink.postgres;

import dev.eventproc.sink.BatchContext;
import org.apache.spark.sql.types.StructType;

/**
 * One batch on its way to the target, as every commit path takes it.
 *
 * @param sql the statements of this batch's columns and shape
 * @param slices the key-hash slices it is written in (1 for a batch committed whole)
 * @param ledger what the ledger already holds for it (slices committed by an earlier attempt)
 */
record BatchPlan(BatchContext batch, StructType schema, PgSql sql, int slices, Ledger.BatchRecord ledger) {}
