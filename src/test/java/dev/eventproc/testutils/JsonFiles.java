package dev.eventproc.testutils;

import dev.eventproc.cli.EventGenerator.Message;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

/** Writes generated messages as JSON-lines files, the replayable files source. */
public final class JsonFiles {
  private JsonFiles() {}

  /** Splits the messages into {@code files} files in send order (file i sorts and dates before file i+1). */
  public static void write(Path dir, List<Message> messages, int files) {
    try {
      Files.createDirectories(dir);
      int per = (messages.size() + files - 1) / files;
      long base = System.currentTimeMillis() - 3_600_000;
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

  /** One file per list of lines (bytes as given, newline-terminated), each file dated after the one before. */
  public static void writeFiles(Path dir, List<List<byte[]>> files) {
    try {
      Files.createDirectories(dir);
      long base = System.currentTimeMillis() - 3_600_000;
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

  /** {@link #writeFiles} for text lines (UTF-8). */
  public static void writeTextFiles(Path dir, List<List<String>> files) {
    writeFiles(dir, files.stream().map(f -> f.stream().map(l -> l.getBytes(StandardCharsets.UTF_8)).toList()).toList());
  }
}
