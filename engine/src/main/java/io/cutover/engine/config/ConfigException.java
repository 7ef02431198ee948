package io.cutover.engine.config;

import java.nio.file.Path;

/** The configuration is wrong; the message names the file, the key and the reason. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final String key;
  private final String reason;

  /**
   * Creates an exception.
   *
   * @param file the configuration file.
   * @param key the key path, e.g. {@code sides.monolith.url}.
   * @param reason what is wrong.
   */
  public ConfigException(Path file, String key, String reason) {
    super(file + ": " + key + ": " + reason);
    this.key = key;
    this.reason = reason;
  }

  /**
   * The key path at fault.
   *
   * @return e.g. {@code tables[2].columns}.
   */
  public String key() {
    return key;
  }

  /**
   * What is wrong, without the file and the key.
   *
   * @return the reason.
   */
  public String reason() {
    return reason;
  }
}
