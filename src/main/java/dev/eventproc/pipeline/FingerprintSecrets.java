package dev.eventproc.pipeline;

import dev.eventproc.config.EventprocConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keeps secrets out of the checkpoint fingerprint, which anyone who can read the checkpoint can read and
 * which a mismatch prints: the value of a secret key (or one that came from {@code ${env:}} /
 * {@code ${file:}}) is stored as an HMAC-SHA256 digest under a random salt kept in the same file, so a
 * change is still detected; passwords inside URLs are masked; a stored value is shown only when it is
 * neither a digest nor a secret.
 */
final class FingerprintSecrets {
  /** The fingerprint entry that holds the salt of its digests. */
  static final String SALT = "eventproc.fingerprint.salt";
  private static final String DIGEST_PREFIX = "hmac-sha256:";

  private FingerprintSecrets() {}

  static String newSalt() {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    return HexFormat.of().formatHex(salt);
  }

  /** The fingerprint as it may be stored: secrets as salted digests, URL passwords masked, with the salt. */
  static Map<String, String> protect(Map<String, String> fingerprint, EventprocConfig config, String salt) {
    Map<String, String> out = new LinkedHashMap<>();
    fingerprint.forEach((k, v) -> out.put(k, config.isSecret(k) && !v.isEmpty() ? digest(salt, k, v)
        : EventprocConfig.maskUrlPassword(v)));
    out.put(SALT, salt);
    return out;
  }

  /** A fingerprint value as a message may show it. */
  static String shown(String key, String value, EventprocConfig config) {
    if (value.startsWith(DIGEST_PREFIX) || config.isSecret(key)) {
      return "(a secret value)";
    }
    return config.redact(value);
  }

  private static String digest(String salt, String key, String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(salt.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return DIGEST_PREFIX + HexFormat.of().formatHex(mac.doFinal((key + "=" + value).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }
}
