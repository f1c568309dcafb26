package dev.eventproc.cli;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.RestrictedMode;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;

/**
 * The operator's restricted-mode options of the commands that read a config file, and the config they load:
 * flags here or {@code EVENTPROC_*} variables, never the file, turn restricted mode on. Also masks the secrets
 * of the loaded config in whatever the command line prints about a failure.
 */
final class RestrictedOptions {
  @Option(names = "--restricted", description = "Run a config written by someone else: confine its paths to --paths-root, "
      + "check its SQL, Spark and Kafka settings against allow-lists (README, Security model). Also: "
      + RestrictedMode.ENV_RESTRICTED + "=true.")
  boolean restricted;

  @Option(names = "--paths-root", paramLabel = "DIR", description = "Restricted mode: every path of the config must lie "
      + "below this directory or URI. Also: " + RestrictedMode.ENV_PATHS_ROOT + ".")
  String pathsRoot;

  @Option(names = "--secrets-dir", paramLabel = "DIR", description = "Restricted mode: the only directory ${file:} may "
      + "read. Also: " + RestrictedMode.ENV_SECRETS_DIR + ".")
  String secretsDir;

  @Option(names = "--catalog-namespace", paramLabel = "NAME", description = "Restricted mode: the namespace catalog tables "
      + "must be in. Also: " + RestrictedMode.ENV_CATALOG_NAMESPACE + ".")
  String catalogNamespace;

  /** Test hook: the environment the options and the config's ${env:} read (System::getenv in production). */
  UnaryOperator<String> env = System::getenv;

  private EventprocConfig loaded;

  /** Loads the config file, under restricted mode when the operator asked for it. */
  EventprocConfig load(Path file) {
    loaded = EventprocConfig.load(file, mode(), env);
    return loaded;
  }

  /** The operator's restricted mode, or null. */
  RestrictedMode mode() {
    return RestrictedMode.resolve(restricted, pathsRoot, secretsDir, catalogNamespace, env);
  }

  /** A message with the secrets of the loaded config, and URL passwords, masked. */
  String redact(String message) {
    return loaded == null ? EventprocConfig.maskUrlPassword(message) : loaded.redact(message);
  }
}
