package dev.eventproc.sink.kafka;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnTimeoutException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;

/** Maps every Kafka failure of the sink to one message a person can act on (the cause is kept). */
final class KafkaErrors {
  private KafkaErrors() {}

  /** The broker aborted a transaction that outlived {@code transaction.timeout.ms}: no other attempt is writing the batch. */
  static final class TransactionTimedOutException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    TransactionTimedOutException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Whether the producer lost its epoch: fenced by another producer, or its transaction aborted by the coordinator (KIP-588). */
  static boolean epochLost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a write failed because another producer of the writer's transactional id took over (not
   * because the broker aborted the transaction for time). The message test finds {@link #explain}'s
   * text when a task's exception reached the driver without its cause.
   */
  static boolean fenced(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof TransactionTimedOutException) {
        return false; // aborted for time: no other attempt to wait for
      }
      if (t instanceof ProducerFencedException
          || t instanceof InvalidProducerEpochException
          || (t.getMessage() != null && t.getMessage().contains("another producer with this writer's transactional id"))) {
        return true;
      }
    }
    return false;
  }

  /** A transaction open longer than the timeout lost its epoch: the broker aborted it for time. Names the keys to change. */
  static RuntimeException transactionTimedOut(String sink, KafkaSinkOptions options, Throwable e, long batchId, int writerPartition,
      long openMillis, int slices) {
    String timeout = options.key(KafkaSinkOptions.PRODUCER) + ".transaction.timeout.ms";
    return new TransactionTimedOutException("sink " + sink + " batch " + batchId + ": the broker aborted the transaction of writer "
        + "partition " + writerPartition + " on " + options.topic() + " after it was open " + openMillis + " ms, longer than " + timeout
        + "=" + options.transactionTimeoutMs() + ". The sink commits at the first slice boundary after half of that, so one key-hash "
        + "slice took longer than the other half. Raise " + timeout + " (at most the broker's transaction.max.timeout.ms), or "
        + options.key(KafkaSinkOptions.SLICES) + " (now " + slices + "; smaller slices, from the next batch that has no slice "
        + "committed yet), or bound the batch (e.g. source.kafka.max.offsets.per.trigger). Spark retries the batch; slices "
        + "already committed are skipped.", e);
  }

  static RuntimeException explain(String sink, KafkaSinkOptions options, Throwable e, String action) {
    Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    String why;
    if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
      why = "another producer with this writer's transactional id took over (a second run of the pipeline, a restarted "
          + "task, or this transaction outlived " + options.key(KafkaSinkOptions.PRODUCER) + ".transaction.timeout.ms="
          + options.transactionTimeoutMs() + "). This attempt stops; what it sent is aborted.";
    } else if (t instanceof InvalidTxnTimeoutException) {
      why = options.key(KafkaSinkOptions.PRODUCER) + ".transaction.timeout.ms=" + options.transactionTimeoutMs()
          + " is above the broker's transaction.max.timeout.ms. Lower it.";
    } else if (t instanceof AuthenticationException) {
      why = "the brokers refused the login (" + t.getMessage() + "). Check the security settings under "
          + options.key(KafkaSinkOptions.PRODUCER) + ".*.";
    } else if (t instanceof AuthorizationException) {
      why = "not allowed (" + t.getMessage() + "): the principal needs Write and Describe on topic " + options.topic()
          + ", Write on its transactional ids and Read on its progress groups.";
    } else if (t instanceof TimeoutException || t instanceof java.util.concurrent.TimeoutException) {
      why = "no answer from the brokers at " + options.bootstrapServers() + " in time (" + t.getMessage() + "). Are they up?";
    } else {
      why = t.getClass().getSimpleName() + ": " + t.getMessage();
    }
    return new IllegalStateException("sink " + sink + ": cannot " + action + " on " + options.topic() + ": " + why, t);
  }
}
