package dev.eventproc.sink;

/**
 * A batch's counts as a caller took them before handing it to a sink ({@link BatchSink#writeCounted}).
 *
 * @param rows the batch's rows
 * @param nullKeyRows of them, rows with a null in any of the sink's {@link BatchSink#keyColumns()}
 */
public record BatchCount(long rows, long nullKeyRows) {
  public BatchCount {
    if (rows < 0 || nullKeyRows < 0 || nullKeyRows > rows) {
      throw new IllegalArgumentException("counts must be 0 <= nullKeyRows <= rows, got rows=" + rows + " nullKeyRows=" + nullKeyRows);
    }
  }
}
