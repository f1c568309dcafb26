package dev.eventproc.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Restricted mode, for platforms that run config files written by other teams: set by the operator outside
 * the config (the {@code --restricted} flag or {@value #ENV_RESTRICTED}{@code =true}), never by the file.
 * What it confines is checked by {@code RestrictedConfig} (package {@code security}); here are the operator's
 * settings.
 *
 * @param pathsRoot every path of the config must lie below it (a local directory, resolved to its real
 *     path, or a URI such as {@code s3a://lake/teams/a}); required
 * @param secretsDir the only directory {@code ${file:}} may read from (real path); null: no {@code ${file:}}
 * @param catalogNamespace the namespace catalog tables must be in (e.g. {@code team_a}); null: no catalog tables
 */
public record RestrictedMode(String pathsRoot, String secretsDir, String catalogNamespace) {
  /** Turns restricted mode on when {@code true} (or {@code 1}, {@code yes}). */
  public static final String ENV_RESTRICTED = "EVENTPROC_RESTRICTED";
  public static final String ENV_PATHS_ROOT = "EVENTPROC_PATHS_ROOT";
  public static final String ENV_SECRETS_DIR = "EVENTPROC_SECRETS_DIR";
  public static final String ENV_CATALOG_NAMESPACE = "EVENTPROC_CATALOG_NAMESPACE";
  /** In restricted mode {@code ${env:NAME}} may name only variables with this prefix, which the operator sets for the team. */
  public static final String ENV_REFERENCE_PREFIX = "EVENTPROC_TEAM_";
  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://.*");
  private static final Set<String> TRUE = Set.of("true", "1", "yes", "on");

  /**
   * The operator's restricted mode, or null when it is off. Flags win over the environment; a flag such as
   * {@code --paths-root} without restricted mode is an error, so a typo cannot silently run unconfined.
   *
   * @param flag {@code --restricted}
   * @param env the environment (System::getenv)
   * @throws ConfigException naming the flag or variable
   */
  public static RestrictedMode resolve(boolean flag, String pathsRoot, String secretsDir, String catalogNamespace,
      UnaryOperator<String> env) {
    String on = env.apply(ENV_RESTRICTED);
    boolean restricted = flag || (on != null && TRUE.contains(on.trim().toLowerCase(Locale.ROOT)));
    String root = pathsRoot != null ? pathsRoot : env.apply(ENV_PATHS_ROOT);
    String secrets = secretsDir != null ? secretsDir : env.apply(ENV_SECRETS_DIR);
    String namespace = catalogNamespace != null ? catalogNamespace : env.apply(ENV_CATALOG_NAMESPACE);
    if (!restricted) {
      for (String[] f : new String[][] {{"--paths-root", pathsRoot}, {"--secrets-dir", secretsDir},
          {"--catalog-namespace", catalogNamespace}}) {
        if (f[1] != null) {
          throw new ConfigException(f[0] + ": is used only in restricted mode. Add --restricted (or set " + ENV_RESTRICTED
              + "=true).");
        }
      }
      return null;
    }
    if (root == null || root.isBlank()) {
      throw new ConfigException("--paths-root: restricted mode needs the directory every path must stay under. Pass "
          + "--paths-root DIR (or set " + ENV_PATHS_ROOT + ").");
    }
    if (namespace != null && !Identifiers.isPlain(namespace)) {
      throw new ConfigException("--catalog-namespace: '" + namespace + "' is not a plain name. " + Identifiers.RULE);
    }
    return new RestrictedMode(realRoot("--paths-root", root.trim()),
        secrets == null || secrets.isBlank() ? null : realDirectory("--secrets-dir", secrets.trim()), namespace);
  }

  /** A URI root as given (normalized); a local one as the real path of an existing directory. */
  private static String realRoot(String flag, String root) {
    if (URI_SCHEME.matcher(root).matches() && !root.startsWith("file:")) {
      return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    }
    return realDirectory(flag, root.startsWith("file:") ? root.replaceFirst("^file:(//)?", "") : root);
  }

  private static String realDirectory(String flag, String dir) {
    Path p = Path.of(dir);
    if (!p.isAbsolute()) {
      throw new ConfigException(flag + ": '" + dir + "' is not an absolute path. Give the full path of a directory.");
    }
    try {
      Path real = p.toRealPath();
      if (!Files.isDirectory(real)) {
        throw new ConfigException(flag + ": '" + dir + "' is not a directory.");
      }
      if (real.getParent() == null) {
        throw new ConfigException(flag + ": '" + dir + "' is the root of the file system. Give a directory of its own.");
      }
      return real.toString();
    } catch (IOException e) {
      throw new ConfigException(flag + ": '" + dir + "' does not exist or cannot be read. Create it first.");
    }
  }

  /** Reads {@code ${file:PATH}} in restricted mode: a file below {@link #secretsDir}, after resolving links. */
  String readSecretFile(String key, String path) throws ReferenceRefused {
    if (secretsDir == null) {
      throw new ReferenceRefused(key + ": ${file:} is not allowed in restricted mode without a secrets directory. Ask the "
          + "operator to pass --secrets-dir, or use ${env:" + ENV_REFERENCE_PREFIX + "...} (restricted mode).");
    }
    Path p = Path.of(path);
    try {
      Path real = p.isAbsolute() ? p.toRealPath() : null;
      if (real == null || !real.startsWith(Path.of(secretsDir)) || !Files.isRegularFile(real)) {
        throw new ReferenceRefused(key + ": ${file:" + path + "} is outside the secrets directory " + secretsDir
            + " (links resolved). Use a file in it (restricted mode).");
      }
      return Files.readString(real).strip();
    } catch (IOException e) {
      throw new ReferenceRefused(key + ": cannot read secret file " + path + ". Check the path and its permissions "
          + "(restricted mode).");
    }
  }

  /** Checks {@code ${env:NAME}} in restricted mode: only the team's variables, so a config cannot read the operator's. */
  void checkEnvReference(String key, String name) throws ReferenceRefused {
    if (!name.startsWith(ENV_REFERENCE_PREFIX)) {
      throw new ReferenceRefused(key + ": ${env:" + name + "} is not allowed in restricted mode: only variables named "
          + ENV_REFERENCE_PREFIX + "* can be read. Ask the operator to provide the value as one (restricted mode).");
    }
  }

  /** A reference the restricted mode does not allow; its message names the key. */
  static final class ReferenceRefused extends Exception {
    private static final long serialVersionUID = 1L;

    ReferenceRefused(String message) {
      super(message);
    }
  }
}
