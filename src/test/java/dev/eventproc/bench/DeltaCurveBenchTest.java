package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** The delta-curve case on tiny tables: both variants merge, the curve, goal and chart come out. */
class DeltaCurveBenchTest {
  @Test
  void bothVariantsMergeEverySizeAndTheCurveIsReported() throws Exception {
    SparkSession spark = TestSpark.session();
    Path dir = TestSpark.newDir("delta-curve");
    BenchReport report = new BenchReport();
    DeltaCurveBench.run(spark, new DeltaCurveBench.Settings(List.of(2_000L, 4_000L), 200, 2, false), dir, report);

    assertThat(report.results()).extracting(BenchResult::variant).containsExactly(
        "eventproc merge, 2,000-row table", "bare merge, 2,000-row table",
        "eventproc merge, 4,000-row table", "bare merge, 4,000-row table");
    assertThat(report.results()).allSatisfy(r -> {
      assertThat(r.rows()).isEqualTo(200);
      assertThat(r.seconds()).isPositive();
    });
    assertThat(report.goals()).singleElement().satisfies(g -> {
      assertThat(g.variant()).isEqualTo("eventproc merge, 4,000-row table");
      assertThat(g.baseline()).isEqualTo("eventproc merge, 2,000-row table");
      assertThat(g.min()).isEqualTo(1 / 1.2);
    });
    assertThat(report.table()).containsPattern("delta-curve:\\s+2,000 rows: eventproc\\s+[0-9.]+ s/batch, bare\\s+[0-9.]+ s/batch")
        .contains("flat: time per batch at 4,000 rows <= 1.2x at 2,000");

    // An untimed first MERGE and four timed ones (two per variant), versions 2..6 of the same 200 keys.
    List<Row> versions = spark.read().format("delta").load(dir.resolve("t4000").toString())
        .groupBy("version").count().orderBy("version").collectAsList();
    assertThat(versions).extracting(r -> r.getLong(0) + ":" + r.getLong(1)).containsExactly("1:3800", "6:200");

    List<DeltaCurveBench.Point> points = DeltaCurveBench.points(report, List.of(2_000L, 4_000L));
    assertThat(points).extracting(DeltaCurveBench.Point::tableRows).containsExactly(2_000L, 4_000L);
    Path png = dir.resolve("delta-merge-curve.png");
    assertThat(BenchChart.curve(points, 200, png, "test")).isTrue();
    assertThat(Files.size(png)).isPositive();
  }

  @Test
  void deletionVectorsAreSetOnTheBuiltTablesWhenAsked() throws Exception {
    SparkSession spark = TestSpark.session();
    Path dir = TestSpark.newDir("delta-curve-dv");
    BenchReport report = new BenchReport();
    DeltaCurveBench.run(spark, new DeltaCurveBench.Settings(List.of(1_000L), 100, 1, true), dir, report);
    String table = "delta.`" + dir.resolve("t1000") + "`";
    assertThat(spark.sql("SHOW TBLPROPERTIES " + table + " ('delta.enableDeletionVectors')").first().getString(1)).isEqualTo("true");
    assertThat(report.goals()).isEmpty(); // one size: no curve to judge
    assertThat(spark.read().format("delta").load(dir.resolve("t1000").toString()).where("version = 4").count()).isEqualTo(100);
  }

  @Test
  void aBatchLargerThanATableIsRefused() {
    assertThatThrownBy(() -> new DeltaCurveBench.Settings(List.of(1_000L), 2_000, 1, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("delta-curve: sizes [1000] must each be at least");
  }
}
