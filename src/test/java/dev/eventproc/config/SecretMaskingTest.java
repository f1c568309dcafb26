package dev.eventproc.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.cli.MainAccess;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineConfigTest;
import dev.eventproc.testutils.LogCapture;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In every mode, secrets stay out of config files, logs and config errors: secret words anywhere in a
 * key name, every {@code *password=} URL parameter (passwords with '/', '@' and spaces too), values
 * that came from {@code ${env:}}/{@code ${file:}}, and Spark's redaction settings that a config may not
 * weaken. The attacks are those of issue 22's probe.
 */
class SecretMaskingTest {
  @TempDir
  Path tmp;

  private Path file(String text) throws Exception {
    return Files.writeString(tmp.resolve("job-" + System.nanoTime() + ".properties"), text);
  }

  @Test
  void aSecretWordAnywhereInAKeyNameMakesItASecret() throws Exception {
    String[][] cases = {
        {"spark.hadoop.fs.s3a.secret.key", "AKIAPLAINSECRET"},
        {"spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net", "azurePlainKey=="},
        {"sink.kafka.producer.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----plain"},
        {"spark.ssl.keyPassword", "plainKeyPassword"},
    };
    for (String[] c : cases) {
      assertThatThrownBy(() -> EventprocConfig.load(file(c[0] + "=" + c[1] + "\n"))).as(c[0])
          .hasMessageContaining(c[0] + ": a secret must not be written in the config file.")
          .hasMessageNotContaining(c[1]);
      EventprocConfig fromCode = EventprocConfig.of(Map.of(c[0], c[1]));
      assertThat(fromCode.isSecret(c[0])).as(c[0]).isTrue();
      assertThat(fromCode.toString()).as(c[0]).doesNotContain(c[1]);
    }
  }

  @Test
  void keysThatOnlyNameASecretMechanismStayPlain() throws Exception {
    EventprocConfig c = EventprocConfig.load(file("spark.hadoop.fs.s3a.aws.credentials.provider=org.example.Provider\n"
        + "sink.key.columns=payment_id\nsource.kafka.option.kafka.sasl.token.mechanism=SCRAM-SHA-512\n"
        + "spark.security.credentials.kafka.enabled=false\n"));
    assertThat(c.masked()).containsEntry("spark.hadoop.fs.s3a.aws.credentials.provider", "org.example.Provider")
        .containsEntry("sink.key.columns", "payment_id");
  }

  @Test
  void everyPasswordParameterOfAUrlIsMaskedWhateverItHolds() {
    assertThat(EventprocConfig.maskUrlPassword("jdbc:postgresql://db/x?sslpassword=tls-secret&user=a"))
        .isEqualTo("jdbc:postgresql://db/x?sslpassword=******&user=a");
    assertThat(EventprocConfig.maskUrlPassword("jdbc:postgresql://db/x?user=a&password=p/q@r s&ssl=true"))
        .isEqualTo("jdbc:postgresql://db/x?user=a&password=******&ssl=true");
    assertThat(EventprocConfig.maskUrlPassword("jdbc:postgresql://db/x?password=50%off"))
        .isEqualTo("jdbc:postgresql://db/x?password=******");
    assertThat(EventprocConfig.maskUrlPassword("jdbc:postgresql://db/x?user=a&Password=p@ss"))
        .doesNotContain("p@ss");
    assertThat(EventprocConfig.maskUrlPassword("s3a://AKID:se/cr@t@bucket/path"))
        .isEqualTo("s3a://AKID:******@bucket/path");
    assertThat(EventprocConfig.maskUrlPassword("postgresql://app:pa55@db:5432/x")).isEqualTo("postgresql://app:******@db:5432/x");
  }

  @Test
  void aConfigMayNotOverrideSparksRedaction() throws Exception {
    for (String key : new String[] {"spark.redaction.regex", "spark.redaction.string.regex", "spark.sql.redaction.options.regex",
        "spark.sql.redaction.string.regex"}) {
      assertThatThrownBy(() -> EventprocConfig.load(file(key + "=nothing-matches-this\n"))).as(key)
          .isInstanceOf(ConfigException.class).hasMessageContaining(key + ": ");
      assertThatThrownBy(() -> EventprocConfig.of(Map.of(key, "x"))).as(key).isInstanceOf(ConfigException.class);
    }
  }

  @Test
  void configErrorsNeverEchoAValueThatCameFromAReference() throws Exception {
    // the probe: sink.mode=${file:/etc/hostname} printed the host name
    Path hostname = Files.writeString(tmp.resolve("hostname"), "db-prod-17.internal\n");
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("sink.mode", "${file:" + hostname + "}");
    c.put("stage.watermark.delay", "${env:TEAM_DELAY}");
    c.put("sink.delta.path", null);
    c.remove("sink.delta.path");
    c.put("sink.delta.table", "${env:TEAM_TABLE}");
    EventprocConfig config = EventprocConfig.of(c, n -> n.equals("TEAM_DELAY") ? "env-held-delay" : n.equals("TEAM_TABLE")
        ? "not a table!" : null);
    assertThatThrownBy(() -> PipelineConfig.from(config)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.mode: ").hasMessageContaining("stage.watermark.delay: ")
        .hasMessageContaining("sink.delta.table: ")
        .hasMessageNotContaining("db-prod-17").hasMessageNotContaining("env-held-delay").hasMessageNotContaining("not a table!");
  }

  @Test
  void theCliNeverLogsOrPrintsASecret() throws Exception {
    Path dir = TestSpark.newDir("cli-secrets");
    Path cp = Files.createDirectories(dir.resolve("cp"));
    Files.writeString(cp.resolve("notes.txt"), "not a checkpoint"); // --reset-checkpoint refuses it, after the config is logged
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("checkpoint.location", cp.toString());
    c.put("source.files.path", "${env:TEAM_INPUT}");
    c.put("sink.delta.path", dir.resolve("t").toString());
    c.put("spark.hadoop.fs.s3a.secret.key", "${env:S3_SECRET}");
    c.put("spark.hadoop.fs.s3a.endpoint", "https://minio:S3cr3tInUrl@minio.internal:9000");
    c.put("quarantine.type", "postgres");
    c.put("quarantine.mode", "append");
    c.put("quarantine.postgres.table", "quarantine");
    c.put("quarantine.postgres.url", "jdbc:postgresql://127.0.0.1:5432/postgres?user=app&sslpassword=Pl41nTls");
    StringBuilder text = new StringBuilder();
    c.forEach((k, v) -> text.append(k).append('=').append(v.replace("\\", "\\\\").replace(":", "\\:")).append('\n'));
    Path file = Files.writeString(dir.resolve("job.properties"), text);
    MainAccess.Run run;
    try (LogCapture logs = new LogCapture()) {
      run = MainAccess.run(n -> n.equals("S3_SECRET") ? "wJalrXUtnFEMI/K7MDENG" : n.equals("TEAM_INPUT")
          ? dir.resolve("in-7c1f").toString() : null, "run", "--config", file.toString(), "--reset-checkpoint");
      assertThat(logs.all()).as("the config was logged").contains("spark.hadoop.fs.s3a.secret.key=******")
          .doesNotContain("wJalrXUtnFEMI").doesNotContain("in-7c1f").doesNotContain("S3cr3tInUrl").doesNotContain("Pl41nTls");
    }
    assertThat(run.status()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("checkpoint.location").doesNotContain("wJalrXUtnFEMI").doesNotContain("S3cr3tInUrl");
  }

  @Test
  void aUrlFromAReferenceIsNotEchoedEvenWithoutAPassword() {
    Map<String, String> c = PipelineConfigTest.valid();
    c.keySet().removeIf(k -> k.startsWith("sink."));
    c.put("sink.type", "postgres");
    c.put("sink.mode", "append");
    c.put("sink.postgres.table", "t");
    c.put("sink.postgres.url", "${env:PG_URL}");
    EventprocConfig config = EventprocConfig.of(c, n -> "mysql://internal-db.corp:3306/payroll");
    assertThatThrownBy(() -> PipelineConfig.from(config)).hasMessageContaining("sink.postgres.url: ")
        .hasMessageNotContaining("internal-db.corp");
  }
}
