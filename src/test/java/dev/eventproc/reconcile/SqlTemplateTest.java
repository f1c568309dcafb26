package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parameters are bound safely: identifiers validated and quoted, literals never spliced into PostgreSQL SQL. */
class SqlTemplateTest {
  @Test
  void postgresIdentifiersAreQuotedLiteralsBecomeParametersAndMetaCommandsAreDropped() {
    SqlTemplate t = SqlTemplate.of("t.sql", "\\set ON_ERROR_STOP on\n"
        + "SELECT count(*)::bigint FROM :\"schema\".:\"table\" -- rows of :'x'\n"
        + "WHERE :\"key\" IS NOT NULL AND day >= :'from_date';\n");
    SqlTemplate.Bound b = t.bindPostgres(Map.of("schema", "public", "table", "payments", "key", "payment_id",
        "from_date", "2026-01-01'; DROP TABLE x; --")).get(0);
    assertThat(b.sql()).startsWith("SELECT count(*)::bigint FROM \"public\".\"payments\"")
        .contains("WHERE \"payment_id\" IS NOT NULL AND day >= ?").doesNotContain("DROP").doesNotContain("ON_ERROR_STOP");
    assertThat(b.parameters()).containsExactly("2026-01-01'; DROP TABLE x; --");
    assertThatThrownBy(() -> t.bindPostgres(Map.of("schema", "public", "table", "payments\"; DROP", "key", "k", "from_date", "d")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("table='payments\"; DROP' is not a plain identifier");
  }

  @Test
  void scriptsSplitAtSemicolonsOutsideQuotesAndComments() {
    assertThat(SqlTemplate.split("-- a; comment\nCREATE VIEW v AS SELECT ';' AS s;\n\n-- only a comment;\nSELECT `a;b` FROM v;\n"))
        .containsExactly("-- a; comment\nCREATE VIEW v AS SELECT ';' AS s", "-- only a comment;\nSELECT `a;b` FROM v");
  }

  @Test
  void sparkValuesAreBoundByTheirPlaceInTheText() {
    SqlTemplate t = SqlTemplate.of("s.sql", "-- Spark's check, ${table} in a comment\n"
        + "SELECT `${key}`, '${table}' AS t, 'from ${from}' FROM ${table} WHERE x = '--not a comment';\n");
    String sql = t.bindSpark(Map.of("table", "delta.`/data/it's`"), Map.of("key", "payment_id", "from", "a'b")).get(0);
    assertThat(sql).isEqualTo("SELECT `payment_id`, 'delta.`/data/it\\'s`' AS t, 'from a\\'b' FROM delta.`/data/it's` "
        + "WHERE x = '--not a comment'");
    assertThatThrownBy(() -> t.bindSpark(Map.of("table", "t"), Map.of("key", "a` OR 1=1 --", "from", "x")))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SqlTemplate.of("u.sql", "SELECT * FROM ${other}").bindSpark(Map.of(), Map.of("other", "t")))
        .hasMessageContaining("no table was given");
  }
}
