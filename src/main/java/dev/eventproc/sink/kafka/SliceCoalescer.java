package dev.eventproc.sink.kafka;

import java.io.Serializable;
import org.apache.spark.Partition;
import org.apache.spark.rdd.PartitionCoalescer;
import org.apache.spark.rdd.PartitionGroup;
import org.apache.spark.rdd.RDD;
import scala.Option;

/**
 * Hands a batch's key-hash slices to the writer partitions without a second shuffle: writer
 * partition {@code w} of {@code W} reads slices {@code w, w + W, w + 2W, ...} one after another, in
 * ascending order, in one task. The batch is repartitioned by the slice hash into as many shuffle
 * partitions as slices, so shuffle partition {@code s} is slice {@code s}: a writer sees each of its
 * slices whole and in order, which its transactions and a replay's resume point rely on, while
 * everything before the shuffle runs in parallel.
 */
final class SliceCoalescer implements PartitionCoalescer, Serializable {
  private static final long serialVersionUID = 1L;

  @Override
  public PartitionGroup[] coalesce(int writers, RDD<?> slices) {
    PartitionGroup[] groups = new PartitionGroup[writers];
    for (int w = 0; w < writers; w++) {
      groups[w] = new PartitionGroup(Option.empty());
    }
    for (Partition slice : slices.partitions()) {
      groups[slice.index() % writers].partitions().addOne(slice);
    }
    return groups;
  }
}
