package io.cutover.engine.apigen.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cutover.engine.apigen.ApiExchange;
import io.cutover.engine.apigen.ApiHook;
import io.cutover.engine.apigen.ApiModel;
import io.cutover.engine.apigen.ApiModel.Resource;
import io.cutover.engine.apigen.ApiProblem;
import io.cutover.engine.apigen.ApiServerConfig;
import io.cutover.engine.apigen.OpenApiDocument;
import io.cutover.engine.apigen.internal.Endpoints.Reply;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.QueryStringEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The generated API's HTTP handler: reads whole requests on Netty's event loop, runs each on a worker (JDBC
 * blocks), routes it, runs the hooks around it, records metrics and writes the response. Sharable: one instance
 * serves every connection.
 */
@ChannelHandler.Sharable
public final class HttpApi extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpApi.class);
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private final ApiServerConfig config;
  private final Supplier<ServedVersions> served;
  private final DataSource pool;
  private final Endpoints endpoints;
  private final List<ApiHook> hooks;
  private final ApiMetrics metrics;
  private final ExecutorService workers;

  /**
   * A handler.
   *
   * @param config the bounds.
   * @param served what is served now.
   * @param pool the connection pool.
   * @param endpoints the operations.
   * @param hooks user code around each request.
   * @param metrics where requests are counted.
   * @param workers the threads that run requests (as many as the pool has connections).
   */
  public HttpApi(ApiServerConfig config, Supplier<ServedVersions> served, DataSource pool, Endpoints endpoints,
      List<ApiHook> hooks, ApiMetrics metrics, ExecutorService workers) {
    this.config = config;
    this.served = served;
    this.pool = pool;
    this.endpoints = endpoints;
    this.hooks = List.copyOf(hooks);
    this.metrics = metrics;
    this.workers = workers;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      int status = cause instanceof TooLongFrameException
          ? String.valueOf(cause.getMessage()).contains("line") ? 414 : 431 : 400;
      write(ctx, problem(new ApiProblem(status, HttpResponseStatus.valueOf(status).reasonPhrase(),
          "the request could not be read: " + cause.getMessage(), List.of()), "", ""), false);
      return;
    }
    FullHttpRequest held = request.retainedDuplicate();
    try {
      workers.execute(() -> {
        try {
          write(ctx, handle(held), keepAlive);
        } finally {
          held.release();
        }
      });
    } catch (RejectedExecutionException e) {
      held.release();
      write(ctx, problem(new ApiProblem(503, "Service Unavailable", "too many requests are waiting; retry later",
          List.of()), request.uri(), ""), keepAlive);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("API connection failed", cause);
    ctx.close();
  }

  /** One request as hooks see it. */
  private static final class Exchange implements ApiExchange {
    private final FullHttpRequest request;
    private final String path;
    private final String requestId;
    private String endpoint = "other";
    private Map<String, Object> attributes;

    Exchange(FullHttpRequest request, String path) {
      this.request = request;
      this.path = path;
      String id = request.headers().get("x-request-id");
      this.requestId = id == null || id.isEmpty() || id.length() > 200 ? UUID.randomUUID().toString() : id;
    }

    @Override
    public String method() {
      return request.method().name();
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public String endpoint() {
      return endpoint;
    }

    @Override
    public String header(String name) {
      return request.headers().get(name);
    }

    @Override
    public String requestId() {
      return requestId;
    }

    @Override
    public Map<String, Object> attributes() {
      if (attributes == null) {
        attributes = new HashMap<>();
      }
      return attributes;
    }
  }

  private FullHttpResponse handle(FullHttpRequest request) {
    long started = System.nanoTime();
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    Exchange exchange = new Exchange(request, uri.rawPath());
    FullHttpResponse response;
    int hooksRun = 0;
    try {
      try {
        uri.parameters(); // decoded here, so that malformed percent-encoding is the client's error, not a 500
        uri.path();
      } catch (IllegalArgumentException e) {
        throw ApiProblem.badRequest("the request's path or query string is not valid percent-encoding: "
            + Values.clip(String.valueOf(e.getMessage())), List.of());
      }
      Route route = route(exchange, uri.rawPath());
      exchange.endpoint = route.endpoint();
      for (ApiHook hook : hooks) {
        hooksRun++;
        hook.before(exchange);
      }
      response = route.run(request, uri);
    } catch (ApiProblem p) {
      response = problem(p, uri.rawPath(), exchange.requestId);
    } catch (SQLException e) {
      ApiProblem p = Endpoints.problem(e);
      if (p.status() >= 500) {
        LOG.warn("API request {} {} failed in the database (request id {})", request.method(), uri.rawPath(),
            exchange.requestId, e);
      }
      response = problem(p, uri.rawPath(), exchange.requestId);
    } catch (RuntimeException e) {
      LOG.error("API request {} {} failed (request id {})", request.method(), uri.rawPath(), exchange.requestId, e);
      response = problem(new ApiProblem(500, "Internal Server Error", "the request failed inside the server; its "
          + "log has the cause under request id " + exchange.requestId, List.of()), uri.rawPath(), exchange.requestId);
    }
    response.headers().set("X-Request-Id", exchange.requestId);
    long nanos = System.nanoTime() - started;
    int status = response.status().code();
    metrics.record(exchange.endpoint, status, nanos);
    for (int i = 0; i < hooksRun; i++) {
      try {
        hooks.get(i).after(exchange, status, nanos);
      } catch (RuntimeException e) {
        LOG.warn("API hook {} failed after {} {}", hooks.get(i), request.method(), uri.rawPath(), e);
      }
    }
    return response;
  }

  private interface Action {
    FullHttpResponse run(FullHttpRequest request, QueryStringDecoder uri) throws SQLException;
  }

  private record Route(String endpoint, Action action) {
    FullHttpResponse run(FullHttpRequest request, QueryStringDecoder uri) throws SQLException {
      return action.run(request, uri);
    }
  }

  /** The methods a metrics label may name; any other is counted as {@code OTHER} (labels stay a fixed set). */
  private static final java.util.Set<String> LABELLED_METHODS = java.util.Set.of("GET", "HEAD", "POST", "PUT",
      "PATCH", "DELETE", "OPTIONS");

  private Route route(Exchange exchange, String path) {
    String method = LABELLED_METHODS.contains(exchange.method()) ? exchange.method() : "OTHER";
    ServedVersions now = served.get();
    switch (path) {
      case "/health" -> {
        return new Route(method + " /health", (req, uri) -> health(now));
      }
      case "/metrics" -> {
        return new Route(method + " /metrics", (req, uri) -> text(200, metrics.prometheus(),
            "text/plain; version=0.0.4; charset=utf-8"));
      }
      case "/openapi.json", "/openapi.yaml" -> {
        return new Route(method + " " + path, (req, uri) -> document(now, now.current(), path.endsWith("yaml")));
      }
      case "/", "" -> {
        return new Route(method + " /", (req, uri) -> json(200, Map.of(), index(now)));
      }
      default -> { }
    }
    String[] segments = path.substring(1).split("/", -1);
    ApiModel version = now.version(versionNumber(segments[0]));
    if (version == null) {
      throw ApiProblem.notFound("no such path: " + Values.clip(path) + " (versions: "
          + String.join(", ", now.versions().stream().map(v -> "/v" + v.version()).toList()) + ")");
    }
    String prefix = "/v" + version.version();
    if (segments.length == 2 && (segments[1].equals("openapi.json") || segments[1].equals("openapi.yaml"))) {
      return new Route(method + " " + prefix + "/" + segments[1], (req, uri) -> document(now, version,
          segments[1].endsWith("yaml")));
    }
    if (segments.length < 2 || segments.length > 3 || segments[1].isEmpty()) {
      throw ApiProblem.notFound("no such path: " + Values.clip(path));
    }
    Map<String, Resource> resources = now.resources().get(version.version());
    if (!resources.containsKey(segments[1])) {
      throw ApiProblem.notFound(prefix + " has no resource '" + Values.clip(segments[1]) + "' (resources: "
          + String.join(", ", version.resources().stream().map(Resource::name).toList()) + ")");
    }
    Resource r = resources.get(segments[1]);
    if (r == null) {
      throw new ApiProblem(410, "Gone", "the table behind " + prefix + "/" + segments[1] + " was dropped",
          List.of());
    }
    String collection = prefix + "/" + r.name();
    if (segments.length == 2) {
      return switch (method) {
        case "GET" -> new Route("GET " + collection, (req, uri) -> {
          Query q = Query.parse(r, uri.parameters(), config.defaultPage(), config.maxPage(),
              "count=exact".equalsIgnoreCase(req.headers().get("prefer")));
          try (Connection c = pool.getConnection()) {
            return reply(endpoints.list(c, r, q, cursor -> next(collection, uri, cursor)));
          }
        });
        case "POST" -> new Route("POST " + collection, (req, uri) -> {
          JsonNode body = body(req);
          try (Connection c = pool.getConnection()) {
            return reply(endpoints.create(c, r, body, OpenApiDocument.MAX_BULK, key -> collection + "/" + key));
          }
        });
        default -> throw notAllowed(method, "GET, POST");
      };
    }
    if (!r.addressable()) {
      throw ApiProblem.notFound(r.name() + " has no primary key, so its rows have no address");
    }
    String item = collection + "/{key}";
    String segment = segments[2];
    return switch (method) {
      case "GET" -> new Route("GET " + item, (req, uri) -> {
        List<Object> key = Endpoints.parseKey(r, segment);
        List<ApiModel.Field> select = Query.parse(r, only(uri.parameters(), "select"), 1, 1, false).select();
        try (Connection c = pool.getConnection()) {
          return reply(endpoints.get(c, r, key, select));
        }
      });
      case "PUT" -> new Route("PUT " + item, (req, uri) -> {
        List<Object> key = Endpoints.parseKey(r, segment);
        JsonNode body = body(req);
        try (Connection c = pool.getConnection()) {
          return reply(endpoints.replace(c, r, key, body));
        }
      });
      case "PATCH" -> new Route("PATCH " + item, (req, uri) -> {
        List<Object> key = Endpoints.parseKey(r, segment);
        JsonNode body = body(req);
        try (Connection c = pool.getConnection()) {
          return reply(endpoints.update(c, r, key, body));
        }
      });
      case "DELETE" -> new Route("DELETE " + item, (req, uri) -> {
        List<Object> key = Endpoints.parseKey(r, segment);
        try (Connection c = pool.getConnection()) {
          return reply(endpoints.delete(c, r, key));
        }
      });
      default -> throw notAllowed(method, "GET, PUT, PATCH, DELETE");
    };
  }

  /** The number in {@code v12}, or 0 when the segment is not a version. */
  private static int versionNumber(String segment) {
    if (segment.length() < 2 || segment.length() > 7 || segment.charAt(0) != 'v' || segment.charAt(1) == '0') {
      return 0;
    }
    int n = 0;
    for (int i = 1; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static Map<String, List<String>> only(Map<String, List<String>> parameters, String allowed) {
    for (String name : parameters.keySet()) {
      if (!name.equals(allowed)) {
        throw ApiProblem.badParameter(name, "a single row takes only '" + allowed + "'");
      }
    }
    return parameters;
  }

  private static ApiProblem notAllowed(String method, String allowed) {
    return new ApiProblem(405, "Method Not Allowed", method + " is not allowed here; allowed: " + allowed,
        List.of());
  }

  private static String next(String collection, QueryStringDecoder uri, String cursor) {
    QueryStringEncoder next = new QueryStringEncoder(collection);
    uri.parameters().forEach((name, values) -> {
      if (!name.equals("cursor") && !name.equals("offset")) {
        values.forEach(v -> next.addParam(name, v));
      }
    });
    next.addParam("cursor", cursor);
    return next.toString();
  }

  private static JsonNode body(FullHttpRequest request) {
    String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      throw new ApiProblem(415, "Unsupported Media Type", "send the body as application/json", List.of());
    }
    if (request.content().readableBytes() == 0) {
      throw ApiProblem.badRequest("the body is empty; send a JSON object", List.of());
    }
    try {
      return JSON.readTree(request.content().toString(StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw ApiProblem.badRequest("the body is not JSON: " + Values.clip(e.getOriginalMessage()), List.of());
    }
  }

  private FullHttpResponse health(ServedVersions now) {
    boolean up;
    try (Connection c = pool.getConnection()) {
      up = c.isValid(2);
    } catch (SQLException e) {
      up = false;
    }
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("status", up ? "UP" : "DOWN");
    body.put("service", now.current().service());
    body.put("version", now.current().version());
    return json(up ? 200 : 503, Map.of(), body);
  }

  private static ObjectNode index(ServedVersions now) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("service", now.current().service());
    ArrayNode versions = body.putArray("versions");
    for (ApiModel v : now.versions()) {
      ObjectNode node = versions.addObject();
      node.put("version", v.version());
      node.put("spec", OpenApiDocument.specVersion(v));
      node.put("openapi", "/v" + v.version() + "/openapi.json");
    }
    return body;
  }

  private static FullHttpResponse document(ServedVersions now, ApiModel model, boolean yaml) {
    return text(200, now.document(model, yaml), yaml ? "application/yaml" : "application/json");
  }

  private static FullHttpResponse reply(Reply reply) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
    if (reply.body().length > 0) {
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    }
    reply.headers().forEach((name, value) -> response.headers().set(name, value));
    return response;
  }

  private static FullHttpResponse json(int status, Map<String, String> headers, JsonNode body) {
    return reply(new Reply(status, headers, body.toString().getBytes(StandardCharsets.UTF_8)));
  }

  private static FullHttpResponse text(int status, String body, String type) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    return response;
  }

  /**
   * A problem as an RFC 9457 response.
   *
   * @param p the problem.
   * @param instance the request's path.
   * @param requestId the request's id, or empty.
   * @return the response.
   */
  static FullHttpResponse problem(ApiProblem p, String instance, String requestId) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("type", "about:blank");
    body.put("title", p.title());
    body.put("status", p.status());
    body.put("detail", p.getMessage());
    if (!instance.isEmpty()) {
      body.put("instance", Values.clip(instance));
    }
    if (!p.errors().isEmpty()) {
      ArrayNode errors = body.putArray("errors");
      for (ApiProblem.FieldError e : p.errors()) {
        ObjectNode error = errors.addObject();
        if (e.pointer() != null) {
          error.put("pointer", e.pointer());
        }
        if (e.parameter() != null) {
          error.put("parameter", e.parameter());
        }
        error.put("detail", e.detail());
      }
    }
    FullHttpResponse response = text(p.status(), body.toString(), "application/problem+json");
    if (p.status() == 405) {
      response.headers().set(HttpHeaderNames.ALLOW, p.getMessage().substring(p.getMessage().indexOf("allowed: ") + 9));
    }
    if (!requestId.isEmpty()) {
      response.headers().set("X-Request-Id", requestId);
    }
    return response;
  }

  private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    var written = ctx.writeAndFlush(response);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
