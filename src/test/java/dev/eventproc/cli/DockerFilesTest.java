package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.stage.StageOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker/ without a Docker engine: the compose file's structure and references (docker/check-compose.py),
 * the job's config validated as eventproc validates it, and the image's versions equal to the pom's.
 */
class DockerFilesTest {
  @TempDir
  Path tmp;

  @Test
  void theComposeFileIsConsistent() throws Exception {
    Process p = new ProcessBuilder("python3", "docker/check-compose.py").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("OK");
  }

  @Test
  void theJobConfigIsValid() throws Exception {
    String text = Files.readString(Path.of("docker/compose.properties"))
        .replace("/run/secrets/pg_password", Path.of("docker/pg_password.txt").toAbsolutePath().toString());
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

  private static String value(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as(regex).isTrue();
    return m.group(1);
  }
}
