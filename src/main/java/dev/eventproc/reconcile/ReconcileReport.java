package dev.eventproc.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.reconcile.Reconciler.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The results of a reconciliation: a table for the terminal, JSON and Markdown files for people and machines. */
public record ReconcileReport(String pipeline, Instant at, List<Result> results) {
  public boolean passed() {
    return !results.isEmpty() && results.stream().noneMatch(Result::failed);
  }

  public String table() {
    StringBuilder sb = new StringBuilder();
    String format = "%-6s %-18s %-28s %s%n";
    sb.append(String.format(Locale.ROOT, format, "status", "sink", "check", "detail"));
    for (Result r : results) {
      String detail = r.detail() + (r.offending().isEmpty() ? "" : " [offending: " + r.offending() + "]");
      sb.append(String.format(Locale.ROOT, format, ReportText.plain(r.status()), ReportText.plain(r.sink()),
          ReportText.plain(r.check()), ReportText.plain(detail)));
    }
    long failed = results.stream().filter(Result::failed).count();
    sb.append(passed() ? "PASS: " + results.size() + " checks passed" : "FAIL: " + failed + " of " + results.size() + " checks failed")
        .append(System.lineSeparator());
    return sb.toString();
  }

  public void writeJson(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("pipeline", pipeline);
    root.put("at", at.toString());
    root.put("passed", passed());
    ArrayNode checks = root.putArray("checks");
    for (Result r : results) {
      ObjectNode n = checks.addObject();
      n.put("sink", r.sink());
      n.put("target", r.target());
      n.put("check", r.check());
      n.put("status", r.status());
      n.put("offending", ReportText.plain(r.offending()));
      n.put("detail", ReportText.plain(r.detail()));
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
  }

  public void writeMarkdown(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("# Reconciliation of " + pipeline + "\n\n" + at + ": **" + (passed() ? "PASS" : "FAIL")
        + "**\n\n| Status | Sink | Target | Check | Offending | Detail |\n|---|---|---|---|---|---|\n");
    for (Result r : results) {
      sb.append("| ").append(cell(r.status())).append(" | ").append(cell(r.sink())).append(" | ").append(cell(r.target())).append(" | ")
          .append(cell(r.check())).append(" | ").append(cell(r.offending())).append(" | ").append(cell(r.detail())).append(" |\n");
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, sb.toString());
  }

  private static String cell(String s) {
    return ReportText.markdownCell(s);
  }
}
