package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.stage.StageOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/ without a Docker engine: the compose file's structure, references and security properties
 * (docker/check-compose.py: pinned images, verified downloads, non-root users, Spark authentication with a
 * generated secret, no committed password), the job's config validated as eventproc validates it, and the
 * image's versions and jar checksums equal to the pom's artifacts.
 */
class DockerFilesTest {
  @TempDir
  Path tmp;

  private static Process check(Path dir) throws IOException {
    return new ProcessBuilder("python3", "docker/check-compose.py", dir.toString()).redirectErrorStream(true).start();
  }

  private static String output(Process p) throws Exception {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  void theComposeFileIsConsistent() throws Exception {
    Process p = check(Path.of("docker"));
    String out = output(p);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("OK");
  }

  @Test
  void theCheckRefusesAStackWithTheIssuesFaults() throws Exception {
    Path copy = Files.createDirectories(tmp.resolve("docker"));
    try (Stream<Path> files = Files.list(Path.of("docker"))) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName().toString()));
      }
    }
    String dockerfile = Files.readString(copy.resolve("Dockerfile"))
        .replace("ARG JAVA_IMAGE=eclipse-temurin:17.0.13_11-jre-jammy", "ARG JAVA_IMAGE=eclipse-temurin:17-jre-jammy")
        .replace("USER spark\n", "")
        .replace("gpg --batch --verify spark.tgz.asc spark.tgz", "true")
        .replaceAll("(?m)^ARG DELTA_SPARK_SHA256=.*$", "ARG DELTA_SPARK_SHA256=unknown");
    Files.writeString(copy.resolve("Dockerfile"), dockerfile);
    Files.writeString(copy.resolve("compose.yaml"), Files.readString(copy.resolve("compose.yaml"))
        .replace("image: postgres:15.10", "image: postgres:15"));
    Files.writeString(copy.resolve("spark-auth.sh"), Files.readString(copy.resolve("spark-auth.sh"))
        .replace("spark.authenticate true", "spark.authenticate false"));
    Files.writeString(copy.resolve("pg_password.txt"), "eventproc-dev-only\n");
    Process p = check(copy);
    String out = output(p);
    assertThat(p.exitValue()).as(out).isEqualTo(1);
    assertThat(out).contains("image postgres:15 is not pinned", "FROM eclipse-temurin:17-jre-jammy is not pinned",
        "stage spark runs as root", "stage job runs as root", "a download is not verified",
        "delta-spark_2.13", "has no pinned SHA-256", "pg_password.txt is committed",
        "spark-auth.sh does not turn on spark.authenticate");
  }

  @Test
  void secretsAreGeneratedOnFirstStartAndSparkRefusesToStartWithoutThem() throws Exception {
    Path secrets = Files.createDirectories(tmp.resolve("secrets"));
    Process init = new ProcessBuilder("sh", "docker/init-secrets.sh", secrets.toString()).redirectErrorStream(true).start();
    assertThat(init.waitFor(30, TimeUnit.SECONDS) && init.exitValue() == 0).as(output(init)).isTrue();
    String password = Files.readString(secrets.resolve("pg_password"));
    assertThat(password).hasSizeGreaterThanOrEqualTo(32).doesNotContain("eventproc-dev-only");
    assertThat(Files.getPosixFilePermissions(secrets.resolve("spark_secret"))).extracting(Enum::name).containsExactly("OWNER_READ");
    Process again = new ProcessBuilder("sh", "docker/init-secrets.sh", secrets.toString()).redirectErrorStream(true).start();
    assertThat(again.waitFor(30, TimeUnit.SECONDS) && again.exitValue() == 0).isTrue();
    assertThat(Files.readString(secrets.resolve("pg_password"))).as("kept on a restart").isEqualTo(password);

    Path conf = Files.createDirectories(tmp.resolve("conf"));
    ProcessBuilder auth = new ProcessBuilder("sh", "docker/spark-auth.sh", "cat", conf.resolve("spark-defaults.conf").toString())
        .redirectErrorStream(true);
    auth.environment().put("SPARK_CONF_DIR", conf.toString());
    auth.environment().put("SPARK_AUTH_SECRET_FILE", secrets.resolve("spark_secret").toString());
    Process started = auth.start();
    String defaults = output(started);
    assertThat(started.exitValue()).as(defaults).isZero();
    assertThat(defaults).contains("spark.authenticate true", "spark.authenticate.secret " + Files.readString(secrets.resolve("spark_secret")));
    auth.environment().put("SPARK_AUTH_SECRET_FILE", tmp.resolve("missing").toString());
    Process refused = auth.start();
    assertThat(output(refused)).contains("secrets-init");
    assertThat(refused.exitValue()).isEqualTo(1);
  }

  @Test
  void theJobConfigIsValid() throws Exception {
    Path password = Files.writeString(tmp.resolve("pg_password"), "generated-on-first-start\n");
    String text = Files.readString(Path.of("docker/compose.properties")).replace("/secrets/pg_password", password.toString());
    Path file = tmp.resolve("compose.properties");
    Files.writeString(file, text);
    PipelineConfig c = PipelineConfig.from(EventprocConfig.load(file));
    assertThat(c.stage().type()).isEqualTo(StageOptions.Type.DEDUPE_LATEST);
    assertThat(c.sinkTypes()).extracting(Enum::name).contains("POSTGRES", "DELTA");
  }

  @Test
  void theImageUsesThePomsVersions() throws Exception {
    String pom = Files.readString(Path.of("pom.xml"));
    String dockerfile = Files.readString(Path.of("docker/Dockerfile"));
    for (String[] pair : new String[][] {{"spark.version", "SPARK_VERSION"}, {"delta.version", "DELTA_VERSION"},
        {"iceberg.version", "ICEBERG_VERSION"}, {"kafka.version", "KAFKA_CLIENTS_VERSION"}}) {
      assertThat(value(dockerfile, "ARG " + pair[1] + "=(\\S+)")).as(pair[1]).isEqualTo(value(pom, "<" + pair[0] + ">([^<]+)<"));
    }
  }

  @Test
  void theImagesJarChecksumsAreThoseOfTheJarsMavenResolved() throws Exception {
    String d = Files.readString(Path.of("docker/Dockerfile"));
    Path repo = Path.of(System.getProperty("user.home"), ".m2", "repository");
    String spark = value(d, "ARG SPARK_VERSION=(\\S+)");
    String delta = value(d, "ARG DELTA_VERSION=(\\S+)");
    String[][] jars = {
        {"DELTA_SPARK_SHA256", "io/delta/delta-spark_2.13/" + delta + "/delta-spark_2.13-" + delta + ".jar"},
        {"DELTA_STORAGE_SHA256", "io/delta/delta-storage/" + delta + "/delta-storage-" + delta + ".jar"},
        {"ICEBERG_RUNTIME_SHA256", "org/apache/iceberg/iceberg-spark-runtime-3.5_2.13/" + value(d, "ARG ICEBERG_VERSION=(\\S+)")
            + "/iceberg-spark-runtime-3.5_2.13-" + value(d, "ARG ICEBERG_VERSION=(\\S+)") + ".jar"},
        {"SPARK_SQL_KAFKA_SHA256", "org/apache/spark/spark-sql-kafka-0-10_2.13/" + spark + "/spark-sql-kafka-0-10_2.13-" + spark + ".jar"},
        {"SPARK_TOKEN_PROVIDER_KAFKA_SHA256", "org/apache/spark/spark-token-provider-kafka-0-10_2.13/" + spark
            + "/spark-token-provider-kafka-0-10_2.13-" + spark + ".jar"},
        {"KAFKA_CLIENTS_SHA256", "org/apache/kafka/kafka-clients/" + value(d, "ARG KAFKA_CLIENTS_VERSION=(\\S+)")
            + "/kafka-clients-" + value(d, "ARG KAFKA_CLIENTS_VERSION=(\\S+)") + ".jar"},
        {"COMMONS_POOL2_SHA256", "org/apache/commons/commons-pool2/" + value(d, "ARG COMMONS_POOL2_VERSION=(\\S+)")
            + "/commons-pool2-" + value(d, "ARG COMMONS_POOL2_VERSION=(\\S+)") + ".jar"}};
    for (String[] jar : jars) {
      Path file = repo.resolve(jar[1]);
      assertThat(file).as("resolved by Maven for this build").exists();
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
      assertThat(value(d, "ARG " + jar[0] + "=(\\S+)")).as(jar[1]).isEqualTo(sha);
    }
  }

  private static String value(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex).isTrue();
    return m.group(1);
  }
}
