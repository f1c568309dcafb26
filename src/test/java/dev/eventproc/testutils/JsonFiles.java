package dev.eventproc.testutils;

import dev.eventproc.cli.EventGenerator.Message;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;

/** Writes generated messages as JSON-lines files, the replayable files source. */
public final class JsonFiles {
  /**
   * The receive time for lines with fixed event times on 2026-03-01 before 10:59 (UTC): with it, whether an
   * event reads as ahead of the source's clock does not depend on the day the test runs.
   */
  public static final Instant FIXED_DAY_RECEIVED = Instant.parse("2026-03-01T11:00:00Z");

  private JsonFiles() {}

  /** Splits the messages into {@code files} files in send order (file i sorts and dates before file i+1), dated an hour ago. */
  public static void write(Path dir, List<Message> messages, int files) {
    write(dir, messages, files, Instant.now().minusSeconds(3600));
  }

  /**
   * As {@link #write(Path, List, int)}, the first file dated {@code received} (the files source's receive time,
   * against which it judges an event time to be ahead), each next one a second later.
   */
  public static void write(Path dir, List<Message> messages, int files, Instant received) {
    try {
      Files.createDirectories(dir);
      int per = (messages.size() + files - 1) / files;
      long base = received.toEpochMilli();
      for (int f = 0; f < files; f++) {
        StringBuilder sb = new StringBuilder();
        for (int i = f * per; i < Math.min(messages.size(), (f + 1) * per); i++) {
          sb.append(messages.get(i).payload()).append('\n');
        }
        Path file = dir.resolve(String.format("part-%04d.json", f));
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.fromMillis(base + f * 1000L));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One file per list of lines (bytes as given, newline-terminated), dated an hour ago, each after the one before. */
  public static void writeFiles(Path dir, List<List<byte[]>> files) {
    writeFiles(dir, files, Instant.now().minusSeconds(3600));
  }

  /**
   * As {@link #writeFiles(Path, List)}, the first file dated {@code received}: lines with fixed event times need
   * a fixed receive time, or whether they read as ahead of it depends on the day the test runs.
   */
  public static void writeFiles(Path dir, List<List<byte[]>> files, Instant received) {
    try {
      Files.createDirectories(dir);
      long base = received.toEpochMilli();
      for (int f = 0; f < files.size(); f++) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] line : files.get(f)) {
          out.write(line);
          out.write('\n');
        }
        Path file = dir.resolve(String.format("part-%04d.json", f));
        Files.write(file, out.toByteArray());
        Files.setLastModifiedTime(file, FileTime.fromMillis(base + f * 1000L));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #writeFiles(Path, List)} for text lines (UTF-8). */
  public static void writeTextFiles(Path dir, List<List<String>> files) {
    writeTextFiles(dir, files, Instant.now().minusSeconds(3600));
  }

  /** {@link #writeFiles(Path, List, Instant)} for text lines (UTF-8). */
  public static void writeTextFiles(Path dir, List<List<String>> files, Instant received) {
    writeFiles(dir, files.stream().map(f -> f.stream().map(l -> l.getBytes(StandardCharsets.UTF_8)).toList()).toList(), received);
  }
}
