package io.cutover.engine.apigen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small HTTP client for the generated API (or the gateway in front of it) in tests: real HTTP, JSON parsed with
 * Jackson. Thread-safe.
 */
public final class ApiClient {
  /** Parses and writes JSON. */
  public static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final int port;

  /**
   * A client of a server on loopback.
   *
   * @param port its port.
   */
  public ApiClient(int port) {
    this.port = port;
  }

  /** A response: status, headers, raw body and the body parsed as JSON (null when it is not JSON). */
  public record Response(int status, HttpResponse<String> raw, JsonNode json) {
    public String header(String name) {
      return raw.headers().firstValue(name).orElse(null);
    }

    public String body() {
      return raw.body();
    }
  }

  public Response get(String path) throws IOException, InterruptedException {
    return send("GET", path, null);
  }

  public Response send(String method, String path, String body) throws IOException, InterruptedException {
    return send(method, path, body, "application/json", null, null);
  }

  public Response send(String method, String path, String body, String contentType, String header, String value)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null && contentType != null) {
      request.header("Content-Type", contentType);
    }
    if (header != null) {
      request.header(header, value);
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = null;
    String type = response.headers().firstValue("content-type").orElse("");
    if (type.contains("json") && !response.body().isEmpty()) {
      json = JSON.readTree(response.body());
    }
    return new Response(response.statusCode(), response, json);
  }
}
