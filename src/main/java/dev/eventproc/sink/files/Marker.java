package dev.eventproc.sink.files;

/**
 * A files sink commit marker as found on disk: the writer it names, the batch id, the rows written and
 * the writer directory it is in ({@code writer-<sink>-<query id>}, or "" for a batch of the old layout).
 */
public record Marker(String writer, long batchId, long rowsWritten, String writerDir) {}
