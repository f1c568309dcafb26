package dev.eventproc.sink.kafka;

import dev.eventproc.sink.WriterId;
import java.io.Serializable;

/**
 * What every writer partition of one attempt at one batch shares, whether it produces on the driver or
 * in a Spark task: the sink, the writer, the batch, its split into writer partitions and key-hash
 * slices, and the attempt's id (recorded with the progress, so the driver can tell its own commits).
 */
record BatchWrite(KafkaSinkOptions options, String sinkName, WriterId writer, long batchId, int partitions, int slices, String attempt)
    implements Serializable {}
