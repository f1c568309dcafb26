package dev.eventproc.bench;

/**
 * A ratio a benchmark is judged by: {@code variant} rows/s divided by {@code baseline} rows/s must be
 * at least {@code min}.
 */
public record BenchGoal(String suite, String variant, String baseline, double min, String meaning) {}
