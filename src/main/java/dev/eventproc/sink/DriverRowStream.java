package dev.eventproc.sink;

import dev.eventproc.util.Errors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.TaskContext;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.io.CompressionCodec;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;
import scala.runtime.AbstractFunction0;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * A batch's rows on the driver as Spark's internal rows, partition by partition in partition order,
 * with the job of the next partition running while the caller consumes one. The row {@link #next()}
 * returns is reused: it is valid until the next call (copy it to keep it). Spark's
 * {@code toLocalIterator} starts a partition's job only when the previous partition is consumed, so a
 * driver that streams rows onwards (a COPY into PostgreSQL) would wait for each job, and the target
 * for the driver.
 *
 * <p>Tasks hand over their rows as binary rows in compressed chunks (Spark's
 * {@code spark.io.compression.codec}, as Spark's collect does); the driver keeps the partition being
 * read and at most {@code ahead} more in that form and decompresses one chunk at a time. Jobs run
 * with the caller's job group and properties (a query's stop cancels them); {@link #close()} cancels
 * the jobs still running, so a caller that stops early leaves nothing behind. One thread uses a stream.
 */
public final class DriverRowStream implements Iterator<InternalRow>, AutoCloseable {
  /** Bytes of binary rows per chunk a task hands over: a partition arrives as chunks, not one array. */
  private static final int CHUNK_BYTES = 1 << 20;

  private final RDD<InternalRow> rdd;
  private final SparkContext context;
  private final StructType schema;
  private final int partitions;
  private final int ahead;
  private final long maxPartitionBytes;
  private final Deque<SimpleFutureAction<byte[][]>> pending = new ArrayDeque<>();
  private final CompressionCodec codec;
  private final UnsafeRow row;
  private int submitted;
  private Iterator<byte[]> partitionChunks = List.<byte[]>of().iterator();
  private ByteBuffer chunk = ByteBuffer.allocate(0);
  private boolean ready;

  private DriverRowStream(Dataset<Row> rows, int ahead, long maxPartitionBytes) {
    this.schema = rows.schema();
    this.context = rows.sparkSession().sparkContext();
    this.rdd = rows.queryExecution().toRdd();
    this.partitions = rdd.getNumPartitions();
    this.ahead = ahead;
    this.maxPartitionBytes = maxPartitionBytes;
    this.codec = CompressionCodec.createCodec(context.getConf());
    this.row = new UnsafeRow(schema.fields().length);
  }

  /**
   * Streams {@code rows} to the driver with up to {@code ahead} partitions' jobs running ahead of the
   * one being consumed (0: one job at a time, as {@code toLocalIterator}).
   */
  public static DriverRowStream of(Dataset<Row> rows, int ahead) {
    return of(rows, ahead, Long.MAX_VALUE);
  }

  /**
   * As {@link #of(Dataset, int)}, with a bound on each partition's compressed bytes: a task whose
   * partition grows past it fails at that point (not at the end), and the caller gets a
   * {@link PartitionTooLargeException}, so the driver never holds more than {@code ahead + 1} such partitions.
   */
  public static DriverRowStream of(Dataset<Row> rows, int ahead, long maxPartitionBytes) {
    if (ahead < 0) {
      throw new IllegalArgumentException("ahead must be >= 0, got " + ahead);
    }
    if (maxPartitionBytes < 1) {
      throw new IllegalArgumentException("maxPartitionBytes must be >= 1, got " + maxPartitionBytes);
    }
    return new DriverRowStream(rows, ahead, maxPartitionBytes);
  }

  /** A partition of the stream outgrew the bound its caller set: nothing is wrong with the rows, only their size here. */
  public static final class PartitionTooLargeException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    static final String MARKER = "eventproc: partition larger than the driver stream's bound of ";

    PartitionTooLargeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Waits until {@link #hasNext()} can answer without waiting for a job (a row is at hand, the next
   * partition has arrived, or the stream is at its end), or until {@code deadlineNanos}
   * ({@link System#nanoTime()}); false when the deadline came first. A failed job is thrown by {@code hasNext()}.
   */
  public boolean awaitRows(long deadlineNanos) {
    while (!(ready || chunk.hasRemaining() || partitionChunks.hasNext())) {
      submitAhead();
      SimpleFutureAction<byte[][]> head = pending.peek();
      if (head == null) {
        return true; // the end
      }
      while (!head.isCompleted()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          scala.concurrent.Await.ready(head, scala.concurrent.duration.Duration.fromNanos(Math.min(left, 50_000_000L)));
        } catch (java.util.concurrent.TimeoutException e) {
          // not yet: look at the clock again
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while waiting for a partition", e);
        }
      }
      nextPartition(); // arrived (or failed: thrown); an empty partition leaves nothing at hand, so on to the next
    }
    return true;
  }

  @Override
  public boolean hasNext() {
    while (!ready) {
      if (chunk.hasRemaining()) {
        int size = chunk.getInt();
        row.pointTo(chunk.array(), Platform.BYTE_ARRAY_OFFSET + chunk.position(), size);
        chunk.position(chunk.position() + size);
        ready = true;
      } else if (partitionChunks.hasNext()) {
        chunk = ByteBuffer.wrap(decompress(partitionChunks.next()));
      } else if (!nextPartition()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public InternalRow next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    ready = false;
    return row;
  }

  /** Waits for the next partition's chunks, first submitting the jobs that may run ahead. */
  private boolean nextPartition() {
    submitAhead();
    SimpleFutureAction<byte[][]> head = pending.poll();
    if (head == null) {
      return false;
    }
    try {
      partitionChunks = Arrays.asList(head.get()).iterator();
      return true;
    } catch (Exception e) { // SparkException is checked, thrown through Scala
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        String m = t.getMessage();
        if (m != null && m.contains(PartitionTooLargeException.MARKER)) {
          throw new PartitionTooLargeException(m.substring(m.indexOf(PartitionTooLargeException.MARKER)), e);
        }
        if (m != null && m.contains("bigger than spark.driver.maxResultSize")) { // Spark's own bound, lower than ours
          throw new PartitionTooLargeException(m, e);
        }
      }
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  private void submitAhead() {
    while (submitted < partitions && pending.size() <= ahead) {
      pending.add(submit(submitted++));
    }
  }

  /** One job for one partition; the future is registered with Spark before this returns, so close() can cancel it. */
  private SimpleFutureAction<byte[][]> submit(int partition) {
    byte[][][] result = new byte[1][][];
    return context.submitJob(rdd, new BinaryChunks(schema, maxPartitionBytes), scala.jdk.javaapi.CollectionConverters.asScala(List.<Object>of(partition)).toList(),
        new AbstractFunction2<Object, byte[][], BoxedUnit>() {
          @Override
          public BoxedUnit apply(Object index, byte[][] chunks) {
            result[0] = chunks;
            return BoxedUnit.UNIT;
          }
        },
        new AbstractFunction0<byte[][]>() {
          @Override
          public byte[][] apply() {
            return result[0];
          }
        });
  }

  private byte[] decompress(byte[] compressed) {
    try (InputStream in = codec.compressedInputStream(new ByteArrayInputStream(compressed))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // an in-memory stream does not fail
    }
  }

  /** Cancels the jobs still running ahead. */
  @Override
  public void close() {
    pending.forEach(SimpleFutureAction::cancel);
    pending.clear();
  }

  /** Task side: a partition's rows as length-prefixed binary rows, in compressed chunks of about a megabyte each. */
  private static final class BinaryChunks extends AbstractFunction1<scala.collection.Iterator<InternalRow>, byte[][]>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final StructType schema;
    private final long maxBytes;

    BinaryChunks(StructType schema, long maxBytes) {
      this.schema = schema;
      this.maxBytes = maxBytes;
    }

    @Override
    public byte[][] apply(scala.collection.Iterator<InternalRow> rows) {
      UnsafeProjection toBinary = UnsafeProjection.create(schema);
      CompressionCodec codec = CompressionCodec.createCodec(SparkEnv.get().conf());
      List<byte[]> out = new ArrayList<>();
      long bytes = 0;
      ByteArrayOutputStream buffer = new ByteArrayOutputStream(CHUNK_BYTES + (CHUNK_BYTES >> 3));
      DataOutputStream data = new DataOutputStream(buffer);
      byte[] copyBuffer = new byte[4096]; // used only for a row not backed by a byte array
      try {
        while (rows.hasNext()) {
          InternalRow next = rows.next();
          UnsafeRow r = next instanceof UnsafeRow u ? u : toBinary.apply(next); // a plan's output is binary already
          data.writeInt(r.getSizeInBytes());
          r.writeToStream(data, copyBuffer);
          if (buffer.size() >= CHUNK_BYTES) {
            out.add(compress(codec, buffer));
            bytes += out.get(out.size() - 1).length;
            buffer.reset();
            if (bytes > maxBytes) {
              throw new IllegalStateException(PartitionTooLargeException.MARKER + maxBytes + " compressed bytes (partition "
                  + TaskContext.getPartitionId() + ")");
            }
          }
        }
        if (buffer.size() > 0) {
          out.add(compress(codec, buffer));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e); // an in-memory stream does not fail
      }
      return out.toArray(new byte[0][]);
    }

    private static byte[] compress(CompressionCodec codec, ByteArrayOutputStream chunk) throws IOException {
      ByteArrayOutputStream compressed = new ByteArrayOutputStream(chunk.size() / 2);
      try (OutputStream z = codec.compressedOutputStream(compressed)) {
        chunk.writeTo(z);
      }
      return compressed.toByteArray();
    }
  }
}
