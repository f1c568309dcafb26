package dev.eventproc.sink;

import dev.eventproc.util.Errors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.io.CompressionCodec;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * A batch's rows on the driver as Spark's internal rows, partition by partition in partition order,
 * with the job of the next partition running while the caller consumes one. The row {@link #next()}
 * returns is reused: it is valid until the next call (copy it to keep it). Spark's {@code toLocalIterator} starts a
 * partition's job only when the previous partition is consumed, so a driver that streams rows
 * onwards (a COPY into PostgreSQL) would wait for each job, and the target for the driver. At most
 * {@code 1 + ahead} partitions are held on the driver (as compact binary rows), so memory stays
 * bounded by the partition size, as with {@code toLocalIterator}. Close it to cancel the jobs ahead
 * when the caller stops early.
 */
public final class DriverRowStream implements Iterator<InternalRow>, AutoCloseable {
  /** Bytes per chunk a task hands over: a partition arrives as a list of chunks, not one array. */
  private static final int CHUNK_BYTES = 1 << 20;

  private final JavaRDD<byte[]> chunks;
  private final SparkContext context;
  private final String jobGroup = "eventproc-driver-rows-" + UUID.randomUUID();
  private final int partitions;
  private final int ahead;
  private final ExecutorService jobs;
  private final Deque<Future<List<byte[]>>> pending = new ArrayDeque<>();
  private final UnsafeRow row;
  private int submitted;
  private Iterator<byte[]> partitionChunks = List.<byte[]>of().iterator();
  private ByteBuffer chunk = ByteBuffer.allocate(0);
  private boolean ready;

  private DriverRowStream(Dataset<Row> rows, int ahead) {
    StructType schema = rows.schema();
    this.context = rows.sparkSession().sparkContext();
    this.chunks = rows.queryExecution().toRdd().toJavaRDD().mapPartitions(new BinaryRows(schema));
    this.partitions = chunks.getNumPartitions();
    this.ahead = ahead;
    this.jobs = Executors.newFixedThreadPool(Math.max(1, Math.min(ahead + 1, partitions)), r -> {
      Thread t = new Thread(r, "eventproc-driver-rows");
      t.setDaemon(true);
      return t;
    });
    this.row = new UnsafeRow(schema.fields().length);
  }

  /**
   * Streams {@code rows} to the driver with up to {@code ahead} partitions' jobs running ahead of the
   * one being consumed (0: one job at a time, as {@code toLocalIterator}).
   */
  public static DriverRowStream of(Dataset<Row> rows, int ahead) {
    if (ahead < 0) {
      throw new IllegalArgumentException("ahead must be >= 0, got " + ahead);
    }
    return new DriverRowStream(rows, ahead);
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
        chunk = ByteBuffer.wrap(partitionChunks.next());
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

  /** Waits for the next partition's rows, first submitting the jobs that may run ahead. */
  private boolean nextPartition() {
    while (submitted < partitions && pending.size() <= ahead) {
      int p = submitted++;
      pending.add(jobs.submit(() -> {
        context.setJobGroup(jobGroup, "eventproc: partition " + p + " to the driver", true);
        return decompress(chunks.collectPartitions(new int[] {p})[0]);
      }));
    }
    Future<List<byte[]>> head = pending.poll();
    if (head == null) {
      return false;
    }
    try {
      partitionChunks = head.get().iterator();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading a partition's rows", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Error error) {
        throw error;
      }
      throw Errors.<RuntimeException>rethrow((Exception) cause); // SparkException, thrown through Scala as it would be
    }
  }

  /** Cancels the jobs still running ahead. */
  @Override
  public void close() {
    if (!pending.isEmpty()) {
      context.cancelJobGroup(jobGroup);
      pending.forEach(f -> f.cancel(true));
      pending.clear();
    }
    jobs.shutdownNow();
  }

  /**
   * Task side: a partition's rows as length-prefixed binary rows, in chunks of about a megabyte, each
   * compressed with Spark's {@code spark.io.compression.codec}, as Spark compresses what it collects
   * (measured: without it the driver took longer, even in local mode, where results still pass through
   * Spark's block manager).
   */
  private static final class BinaryRows implements FlatMapFunction<Iterator<InternalRow>, byte[]> {
    private static final long serialVersionUID = 1L;
    private final StructType schema;

    BinaryRows(StructType schema) {
      this.schema = schema;
    }

    @Override
    public Iterator<byte[]> call(Iterator<InternalRow> rows) {
      UnsafeProjection toBinary = UnsafeProjection.create(schema);
      CompressionCodec codec = CompressionCodec.createCodec(SparkEnv.get().conf());
      List<byte[]> out = new ArrayList<>();
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
            buffer.reset();
          }
        }
        if (buffer.size() > 0) {
          out.add(compress(codec, buffer));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e); // an in-memory stream does not fail
      }
      return out.iterator();
    }

    private static byte[] compress(CompressionCodec codec, ByteArrayOutputStream chunk) throws IOException {
      ByteArrayOutputStream compressed = new ByteArrayOutputStream(chunk.size() / 2);
      try (OutputStream z = codec.compressedOutputStream(compressed)) {
        chunk.writeTo(z);
      }
      return compressed.toByteArray();
    }
  }

  /** Driver side, in the job's thread: the partition's chunks as they were before compression. */
  private List<byte[]> decompress(List<byte[]> compressed) throws IOException {
    CompressionCodec codec = CompressionCodec.createCodec(context.getConf());
    List<byte[]> out = new ArrayList<>(compressed.size());
    for (byte[] c : compressed) {
      try (InputStream in = codec.compressedInputStream(new ByteArrayInputStream(c))) {
        out.add(in.readAllBytes());
      }
    }
    return out;
  }
}
