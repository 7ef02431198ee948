package io.cutover.admin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of the admin server, validated once.
 *
 * @param host the address to bind; loopback by default.
 * @param port the port; 0 picks a free one.
 * @param bearerToken when not empty, every call must carry {@code authorization: Bearer <token>}.
 * @param maxInboundMessageBytes the largest request accepted.
 * @param tlsCertificateChain the server's certificate chain (PEM) to serve TLS, or null for plaintext.
 * @param tlsPrivateKey the server's private key (PKCS#8 PEM), with the chain, or null.
 */
public record AdminConfig(String host, int port, String bearerToken, int maxInboundMessageBytes,
    Path tlsCertificateChain, Path tlsPrivateKey) {
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
    if ((tlsCertificateChain == null) != (tlsPrivateKey == null)) {
      throw new IllegalArgumentException("admin TLS needs both a certificate chain and a private key");
    }
    for (Path file : new Path[] {tlsCertificateChain, tlsPrivateKey}) {
      if (file != null && !Files.isReadable(file)) {
        throw new IllegalArgumentException("admin TLS file " + file + " cannot be read");
      }
    }
  }

  /**
   * Settings without TLS.
   *
   * @param host the address.
   * @param port the port.
   * @param bearerToken the token, or empty.
   * @param maxInboundMessageBytes the largest request.
   */
  public AdminConfig(String host, int port, String bearerToken, int maxInboundMessageBytes) {
    this(host, port, bearerToken, maxInboundMessageBytes, null, null);
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
    return new AdminConfig(host, port, token, maxInboundMessageBytes, tlsCertificateChain, tlsPrivateKey);
  }

  /**
   * A copy that serves TLS.
   *
   * @param certificateChain the certificate chain, PEM.
   * @param privateKey the private key, PKCS#8 PEM.
   * @return the settings.
   */
  public AdminConfig withTls(Path certificateChain, Path privateKey) {
    return new AdminConfig(host, port, bearerToken, maxInboundMessageBytes, certificateChain, privateKey);
  }

  /**
   * Whether the server speaks TLS.
   *
   * @return true with a certificate.
   */
  public boolean tls() {
    return tlsCertificateChain != null;
  }
}
