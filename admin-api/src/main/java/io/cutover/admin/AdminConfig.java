package io.cutover.admin;

import java.util.Objects;

/**
 * Settings of the admin server, validated once.
 *
 * @param host the address to bind; loopback by default.
 * @param port the port; 0 picks a free one.
 * @param bearerToken when not empty, every call must carry {@code authorization: Bearer <token>}.
 * @param maxInboundMessageBytes the largest request accepted.
 */
public record AdminConfig(String host, int port, String bearerToken, int maxInboundMessageBytes) {
  /** Default for {@link #host()}. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** Default for {@link #maxInboundMessageBytes()}: 1 MiB. */
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 1 << 20;

  /** Validates the settings; the message names the setting. */
  public AdminConfig {
    Objects.requireNonNull(host, "admin host must be set");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("admin port must be between 0 and 65535, was " + port);
    }
    bearerToken = bearerToken == null ? "" : bearerToken;
    if (maxInboundMessageBytes < 1_024) {
      throw new IllegalArgumentException("admin maxInboundMessageBytes must be at least 1024, was "
          + maxInboundMessageBytes);
    }
  }

  /**
   * Loopback, a given port, no token.
   *
   * @param port the port; 0 picks a free one.
   * @return the settings.
   */
  public static AdminConfig loopback(int port) {
    return new AdminConfig(DEFAULT_HOST, port, "", DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
  }

  /**
   * A copy that requires a bearer token.
   *
   * @param token the token callers must present.
   * @return the settings.
   */
  public AdminConfig withBearerToken(String token) {
    return new AdminConfig(host, port, token, maxInboundMessageBytes);
  }
}
