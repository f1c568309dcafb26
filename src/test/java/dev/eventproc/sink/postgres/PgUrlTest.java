package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineConfigTest;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * A JDBC URL pgjdbc cannot parse made pgjdbc put the whole URL, password included, into its error, which
 * reached the log, stdout and reconcile reports (issue 22). Such a URL is now refused at config time
 * without quoting it, and any PostgreSQL error the sink explains is masked, its causes included.
 */
class PgUrlTest {
  private static final String[] UNPARSABLE = {
      "jdbc:postgresql://127.0.0.1:5432?user=app&password=50%off",   // no database part
      "jdbc:postgresql://127.0.0.1:5432/db?user=app&password=50%off", // not URL-encoded
      "jdbc:postgresql://127.0.0.1:99999/db?password=p/q@r s",       // bad port
  };

  private static Map<String, String> config(String url) {
    Map<String, String> c = PipelineConfigTest.valid();
    c.keySet().removeIf(k -> k.startsWith("sink."));
    c.put("sink.type", "postgres");
    c.put("sink.mode", "append");
    c.put("sink.postgres.table", "t");
    c.put("sink.postgres.url", url);
    return c;
  }

  @Test
  void aUrlPgjdbcCannotParseIsRefusedWithoutQuotingIt() {
    for (String url : UNPARSABLE) {
      assertThatThrownBy(() -> PipelineConfig.from(EventprocConfig.of(config(url)))).as(url)
          .isInstanceOf(ConfigException.class).hasMessageContaining("sink.postgres.url: ")
          .hasMessageNotContaining("50%off").hasMessageNotContaining("p/q@r s").hasMessageNotContaining("off");
    }
    PipelineConfig.from(EventprocConfig.of(config("jdbc:postgresql://127.0.0.1:5432/db?user=app&password=50%25off&ssl=false")));
    assertThat(PgUrl.parse("jdbc:postgresql://h1:5432,h2/db?password=50%25off").parameters()).containsEntry("password", "50%off");
  }

  @Test
  void aPostgresErrorThatQuotesTheUrlIsMaskedCausesIncluded() {
    PostgresOptions o = PostgresOptions.builder().url(UNPARSABLE[0]).table("t").build();
    SQLException pg = null;
    try {
      DriverManager.getConnection(o.url(), new Properties());
    } catch (SQLException e) {
      pg = e;
    }
    assertThat((Object) pg).as("pgjdbc refuses the URL").isNotNull();
    assertThat(pg.getMessage()).as("pgjdbc quotes the URL, password included").contains("50%off");
    RuntimeException explained = PgConnections.explain(o, "pg", new IllegalStateException("open failed", pg), "connect");
    for (Throwable t = explained; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).as(t.getClass().getName()).doesNotContain("50%off");
      assertThat(t.toString()).doesNotContain("50%off");
    }
    assertThat(explained.getMessage()).contains("password=******");
    SQLException kept = PgConnections.find(explained);
    assertThat((Object) kept).as("an SQLException stays in the chain").isNotNull();
    assertThat(kept.getSQLState()).as("with pgjdbc's SQLState").isEqualTo(pg.getSQLState());
  }
}
