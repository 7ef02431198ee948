package io.cutover.engine.gateway;

import io.cutover.engine.route.Decision;
import io.cutover.engine.route.RequestView;
import io.cutover.engine.route.RouteStats;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.Target;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelPool;
import io.netty.channel.pool.SimpleChannelPool;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP/1.1 gateway: a reverse proxy on Netty that asks the {@link Router} where each request goes and
 * forwards it over pooled keep-alive connections to that side's upstream, and nowhere else (never an open proxy).
 *
 * <ul>
 *   <li>Each answer carries {@code X-Cutover-Side} (the upstream that answered), {@code X-Cutover-Variant} and
 *       {@code X-Request-Id} (the client's, or a new one, also sent upstream).</li>
 *   <li>An idempotent request whose upstream refused the connection is retried once on the other side; other
 *       failures are answered 502 (504 after the request timeout), never twice.</li>
 *   <li>Passive ejection: after {@code ejectAfter} consecutive failures an upstream is marked down in the router
 *       for {@code ejectFor}, so traffic fails over; then it gets requests again.</li>
 *   <li>Bounds: request headers and bodies above the limits get 431 and 413; absolute-form request targets 400.</li>
 * </ul>
 * What each side answered is recorded in {@link RouteStats} for rollouts. Thread-safe.
 */
public final class Gateway implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Gateway.class);
  private static final Set<HttpMethod> IDEMPOTENT = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT,
      HttpMethod.DELETE, HttpMethod.OPTIONS);
  private static final List<String> HOP_BY_HOP = List.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");
  private static final AttributeKey<Promise<FullHttpResponse>> PENDING = AttributeKey.valueOf("cutover.pending");
  private final GatewayConfig config;
  private final Router router;
  private final RouteStats stats;
  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(0, NioIoHandler.newFactory());
  private final Map<String, ChannelPool> pools = new HashMap<>();
  private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
  private final Map<String, Boolean> ejected = new ConcurrentHashMap<>();
  private final Channel server;

  private Gateway(GatewayConfig config, Router router, RouteStats stats) throws InterruptedException {
    this.config = config;
    this.router = router;
    this.stats = stats;
    for (Map.Entry<String, InetSocketAddress> upstream : config.upstreams().entrySet()) {
      Bootstrap client = new Bootstrap().group(workers).channel(NioSocketChannel.class)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
          .option(ChannelOption.TCP_NODELAY, true).remoteAddress(upstream.getValue());
      pools.put(upstream.getKey(), new SimpleChannelPool(client, new AbstractChannelPoolHandler() {
        @Override
        public void channelCreated(Channel ch) {
          ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024 * 1024),
              new UpstreamHandler());
        }
      }));
    }
    server = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(4096, config.maxHeaderBytes(), 8192),
                new HttpObjectAggregator(config.maxBodyBytes()), new ClientHandler());
          }
        }).bind(config.host(), config.port()).sync().channel();
    if (!config.healthPath().isEmpty()) {
      workers.scheduleWithFixedDelay(this::checkHealth, 0, config.healthInterval().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Active health checks: GET the health path on every upstream; a 2xx marks it up, anything else down. */
  private void checkHealth() {
    for (Map.Entry<String, ChannelPool> upstream : pools.entrySet()) {
      String name = upstream.getKey();
      ChannelPool pool = upstream.getValue();
      pool.acquire().addListener((Future<Channel> acquired) -> {
        if (!acquired.isSuccess()) {
          health(name, false);
          return;
        }
        Channel channel = acquired.getNow();
        Promise<FullHttpResponse> answer = channel.eventLoop().newPromise();
        channel.attr(PENDING).set(answer);
        io.netty.util.concurrent.ScheduledFuture<?> timeout = channel.eventLoop().schedule(
            () -> answer.tryFailure(new java.util.concurrent.TimeoutException("health check")),
            config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        answer.addListener((Future<FullHttpResponse> done) -> {
          timeout.cancel(false);
          boolean healthy = done.isSuccess() && done.getNow().status().code() / 100 == 2;
          if (done.isSuccess()) {
            done.getNow().release();
            pool.release(channel);
          } else {
            channel.close();
            pool.release(channel);
          }
          health(name, healthy);
        });
        InetSocketAddress address = config.upstreams().get(name);
        io.netty.handler.codec.http.DefaultFullHttpRequest check = new io.netty.handler.codec.http.DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.GET, config.healthPath());
        check.headers().set(HttpHeaderNames.HOST, address.getHostString() + ":" + address.getPort());
        HttpUtil.setKeepAlive(check, true);
        channel.writeAndFlush(check);
      });
    }
  }

  private void health(String upstream, boolean healthy) {
    boolean down = router.isDown(upstream);
    if (healthy && down && !ejected.containsKey(upstream)) {
      router.markDown(upstream, false);
      LOG.info("gateway: {} passed its health check, back in service", upstream);
    } else if (!healthy && !down) {
      router.markDown(upstream, true);
      LOG.warn("gateway: {} failed its health check, taken out of service", upstream);
    }
  }

  /**
   * Starts a gateway.
   *
   * @param config where to listen and forward.
   * @param router decides where requests go.
   * @param stats where answers are recorded.
   * @return the running gateway.
   * @throws InterruptedException if interrupted while binding.
   */
  public static Gateway start(GatewayConfig config, Router router, RouteStats stats) throws InterruptedException {
    return new Gateway(config, router, stats);
  }

  /**
   * The port listened on.
   *
   * @return the port.
   */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Stops listening, then stops the event loops (requests in flight get their answers first, for up to 5 s). */
  @Override
  public void close() {
    server.close().syncUninterruptibly();
    pools.values().forEach(ChannelPool::close);
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Reads a response off an upstream connection into the promise of the request in flight on it. */
  private static final class UpstreamHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      Promise<FullHttpResponse> pending = ctx.channel().attr(PENDING).getAndSet(null);
      if (pending != null) {
        pending.trySuccess(response.retain());
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      Promise<FullHttpResponse> pending = ctx.channel().attr(PENDING).getAndSet(null);
      if (pending != null) {
        pending.tryFailure(new java.io.IOException("upstream closed the connection"));
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Promise<FullHttpResponse> pending = ctx.channel().attr(PENDING).getAndSet(null);
      if (pending != null) {
        pending.tryFailure(cause);
      }
      ctx.close();
    }
  }

  /** Serves the gateway's clients. */
  private final class ClientHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      if (request.decoderResult().isFailure()) {
        Throwable cause = request.decoderResult().cause();
        HttpResponseStatus status = cause instanceof TooLongFrameException
            ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.BAD_REQUEST;
        answer(ctx, problem(status, "the request could not be read: " + cause.getMessage(), "none", ""), false);
        return;
      }
      if (!request.uri().startsWith("/")) {
        answer(ctx, problem(HttpResponseStatus.BAD_REQUEST, "request targets must be paths; this gateway is not an "
            + "open proxy", "none", ""), keepAlive);
        return;
      }
      String requestId = request.headers().get("x-request-id");
      if (requestId == null || requestId.isEmpty() || requestId.length() > 200) {
        requestId = UUID.randomUUID().toString();
      }
      Decision decision = router.decide(new View(request));
      if (!decision.servable()) {
        answer(ctx, problem(HttpResponseStatus.SERVICE_UNAVAILABLE, "no healthy side can serve this request",
            "none", requestId), keepAlive);
        return;
      }
      forward(ctx, request.retainedDuplicate(), decision, decision.target(), requestId, keepAlive, 2);
    }

    /**
     * Sends a request upstream. {@code retries} bounds the attempts an idempotent request gets after the first:
     * two, so a failover that meets a stale pooled connection on the other side still gets a fresh one.
     */
    private void forward(ChannelHandlerContext ctx, FullHttpRequest request, Decision decision, Target target,
        String requestId, boolean keepAlive, int retries) {
      String upstream = upstreamOf(decision, target);
      ChannelPool pool = pools.get(upstream);
      if (pool == null) {
        request.release();
        answer(ctx, problem(HttpResponseStatus.BAD_GATEWAY, "no upstream configured for " + upstream, upstream,
            requestId), keepAlive);
        return;
      }
      long started = System.nanoTime();
      pool.acquire().addListener((Future<Channel> acquired) -> {
        if (!acquired.isSuccess()) {
          failed(upstream);
          Throwable cause = acquired.cause();
          boolean refused = cause instanceof ConnectException || cause instanceof java.nio.channels.ClosedChannelException
              || (cause != null && cause.getCause() instanceof ConnectException);
          if (retries > 0 && refused && IDEMPOTENT.contains(request.method()) && decision.route() != null
              && !router.isDown(upstreamOf(decision, target.other()))) {
            forward(ctx, request, decision, target.other(), requestId, keepAlive, retries - 1);
            return;
          }
          request.release();
          record(decision, target, true, started);
          answer(ctx, problem(HttpResponseStatus.BAD_GATEWAY, upstream + " could not be reached: "
              + (cause == null ? "unknown" : cause.getMessage()), upstream, requestId), keepAlive);
          return;
        }
        Channel channel = acquired.getNow();
        Promise<FullHttpResponse> answer = channel.eventLoop().newPromise();
        channel.attr(PENDING).set(answer);
        io.netty.util.concurrent.ScheduledFuture<?> timeout = channel.eventLoop().schedule(() -> {
          answer.tryFailure(new java.util.concurrent.TimeoutException("no answer within "
              + config.requestTimeout().toMillis() + " ms"));
        }, config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        answer.addListener((Future<FullHttpResponse> done) -> {
          timeout.cancel(false);
          if (done.isSuccess()) {
            request.release();
            FullHttpResponse response = done.getNow();
            boolean reusable = HttpUtil.isKeepAlive(response);
            if (reusable) {
              pool.release(channel);
            } else {
              channel.close();
              pool.release(channel);
            }
            boolean error = response.status().code() >= 500;
            if (error) {
              failed(upstream);
            } else {
              failures.computeIfAbsent(upstream, k -> new AtomicInteger()).set(0);
            }
            record(decision, target, error, started);
            for (String hop : HOP_BY_HOP) {
              response.headers().remove(hop);
            }
            response.headers().set("X-Cutover-Side", upstream);
            response.headers().set("X-Cutover-Variant", target == decision.target() ? decision.variant() : upstream);
            response.headers().set("X-Request-Id", requestId);
            answer(ctx, response, keepAlive);
          } else {
            channel.close();
            pool.release(channel);
            if (retries > 0 && IDEMPOTENT.contains(request.method()) && done.cause() instanceof java.io.IOException) {
              // the connection closed before an answer (a stale pooled one, or the upstream going away): once
              // more, on the other side when it is up, else on a fresh connection to this one
              request.content().readerIndex(0);
              Target next = decision.route() != null && !router.isDown(upstreamOf(decision, target.other()))
                  ? target.other() : target;
              forward(ctx, request, decision, next, requestId, keepAlive, retries - 1);
              return;
            }
            request.release();
            failed(upstream);
            record(decision, target, true, started);
            boolean timedOut = done.cause() instanceof java.util.concurrent.TimeoutException;
            answer(ctx, problem(timedOut ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY,
                upstream + " failed: " + done.cause().getMessage(), upstream, requestId), keepAlive);
          }
        });
        for (String hop : HOP_BY_HOP) {
          request.headers().remove(hop);
        }
        InetSocketAddress address = config.upstreams().get(upstream);
        request.headers().set(HttpHeaderNames.HOST, address.getHostString() + ":" + address.getPort());
        request.headers().set("X-Request-Id", requestId);
        HttpUtil.setKeepAlive(request, true);
        request.retain(); // the write consumes one reference; this one is kept for a retry until the answer is in
        channel.writeAndFlush(request).addListener((ChannelFutureListener) written -> {
          if (!written.isSuccess()) {
            answer.tryFailure(written.cause());
          }
        });
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("gateway client connection failed", cause);
      ctx.close();
    }
  }

  private String upstreamOf(Decision decision, Target target) {
    return target == Target.SERVICE && decision.route() != null ? decision.route().service() : Router.MONOLITH;
  }

  private void record(Decision decision, Target target, boolean error, long startedNanos) {
    if (decision.route() != null) {
      stats.record(decision.route().name(), target, error, (System.nanoTime() - startedNanos) / 1_000);
    }
  }

  /** Counts a failure; ejects the upstream after too many in a row, for a while. */
  private void failed(String upstream) {
    int n = failures.computeIfAbsent(upstream, k -> new AtomicInteger()).incrementAndGet();
    if (n >= config.ejectAfter() && ejected.putIfAbsent(upstream, Boolean.TRUE) == null) {
      router.markDown(upstream, true);
      LOG.warn("gateway: {} ejected for {} after {} failures in a row", upstream, config.ejectFor(), n);
      workers.schedule(() -> {
        failures.get(upstream).set(config.ejectAfter() - 1); // one more failure ejects it again
        ejected.remove(upstream);
        router.markDown(upstream, false);
      }, config.ejectFor().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private static void answer(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    HttpUtil.setContentLength(response, response.content().readableBytes());
    HttpUtil.setKeepAlive(response, keepAlive);
    var written = ctx.writeAndFlush(response);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static FullHttpResponse problem(HttpResponseStatus status, String detail, String side, String requestId) {
    String body = "{\"type\":\"about:blank\",\"title\":\"" + status.reasonPhrase() + "\",\"status\":" + status.code()
        + ",\"detail\":\"" + detail.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/problem+json");
    response.headers().set("X-Cutover-Side", side);
    if (!requestId.isEmpty()) {
      response.headers().set("X-Request-Id", requestId);
    }
    return response;
  }

  /** The router's view of a request (cookies and query parsed on first use). */
  private static final class View implements RequestView {
    private final FullHttpRequest request;
    private final String path;
    private Map<String, String> cookies;
    private QueryStringDecoder query;

    View(FullHttpRequest request) {
      this.request = request;
      String uri = request.uri();
      int q = uri.indexOf('?');
      this.path = q < 0 ? uri : uri.substring(0, q);
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
    public String header(String name) {
      return request.headers().get(name);
    }

    @Override
    public String cookie(String name) {
      if (cookies == null) {
        cookies = new HashMap<>();
        String header = request.headers().get(HttpHeaderNames.COOKIE);
        if (header != null) {
          for (Cookie cookie : ServerCookieDecoder.LAX.decode(header)) {
            cookies.putIfAbsent(cookie.name(), cookie.value());
          }
        }
      }
      return cookies.get(name);
    }

    @Override
    public String query(String name) {
      if (query == null) {
        query = new QueryStringDecoder(request.uri());
      }
      List<String> values = query.parameters().get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }
  }
}
