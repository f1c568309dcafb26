package dev.eventproc.testutils;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Which crash cases run. Compact (the default, what CI runs): every fault point once, alternating
 * between the first batch (0) and a middle batch (1). Full ({@code -Dcrash.matrix=full}, or
 * {@code mvn verify -Pcrash-matrix}): every fault point on both batches.
 */
public final class CrashMatrix {
  public static final String PROPERTY = "crash.matrix";

  private CrashMatrix() {}

  public static boolean full() {
    return "full".equalsIgnoreCase(System.getProperty(PROPERTY, "compact"));
  }

  /**
   * Cases from rows of leading arguments (e.g. commit shape, fault point, sink): each row gets a batch
   * appended, as {@code (row..., batch)}.
   */
  public static Stream<Arguments> cases(Object[]... rows) {
    List<Arguments> out = new ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      for (int batch : full() ? new int[] {0, 1} : new int[] {i % 2 == 0 ? 1 : 0}) {
        Object[] args = new Object[rows[i].length + 1];
        System.arraycopy(rows[i], 0, args, 0, rows[i].length);
        args[rows[i].length] = batch;
        out.add(Arguments.of(args));
      }
    }
    return out.stream();
  }
}
