package io.cutover.bench;

import io.cutover.engine.gateway.Gateway;
import io.cutover.engine.gateway.GatewayConfig;
import io.cutover.engine.route.KeySource;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.RouteStats;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The gateway's cost under load, measured with {@code wrk} (Debian's package) on loopback: the same upstream (a
 * minimal Netty HTTP server answering 2 bytes) called directly (the baseline) and through the gateway, which routes
 * every request on a sticky route at 50% (both sides point at the same upstream), in one run. Both share the
 * machine's cores with wrk.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.GatewayHarness [SECONDS] [CONNECTIONS]
 * </pre>
 */
public final class GatewayHarness {
  private GatewayHarness() {}

  /**
   * Runs it.
   *
   * @param args seconds per run, connections.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 32;
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Channel upstream = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                new SimpleChannelInboundHandler<FullHttpRequest>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.OK, Unpooled.wrappedBuffer("ok".getBytes(StandardCharsets.US_ASCII)));
                    HttpUtil.setContentLength(response, 2);
                    HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
                    ctx.writeAndFlush(response);
                  }

                  @Override
                  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close(); // wrk resets its connections at the end of a run
                  }
                });
          }
        }).bind("127.0.0.1", 0).sync().channel();
    InetSocketAddress address = (InetSocketAddress) upstream.localAddress();
    Router router = new Router(new RoutingTable(1, List.of(Route.of("orders", "/api/orders", "orders", 5_000,
        KeySource.parse("header:x-user")))));
    try (Gateway gateway = Gateway.start(GatewayConfig.loopback(0, Map.of("monolith", address, "orders", address)),
        router, new RouteStats())) {
      System.out.printf("JDK %s, %d cores, wrk -t2 -c%d -d%ds%n", System.getProperty("java.version"),
          Runtime.getRuntime().availableProcessors(), connections, seconds);
      wrk("warm-up gateway", gateway.port(), 3, connections);
      wrk("warm-up direct", address.getPort(), 3, connections);
      for (int run = 1; run <= 2; run++) {
        wrk("direct (baseline) " + run, address.getPort(), seconds, connections);
        wrk("through the gateway " + run, gateway.port(), seconds, connections);
      }
    } finally {
      upstream.close().sync();
      group.shutdownGracefully();
    }
  }

  private static void wrk(String label, int port, int seconds, int connections) throws Exception {
    Process wrk = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency",
        "-H", "x-user: user-7", "http://127.0.0.1:" + port + "/api/orders/1").redirectErrorStream(true).start();
    StringBuilder summary = new StringBuilder();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(wrk.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        String t = line.strip();
        if (t.startsWith("50%") || t.startsWith("90%") || t.startsWith("99%") || t.startsWith("Requests/sec")
            || t.startsWith("Non-2xx") || t.startsWith("Socket errors")) {
          summary.append("  ").append(t.replaceAll("\\s+", " "));
        }
      }
    }
    wrk.waitFor();
    if (!label.startsWith("warm-up")) {
      System.out.printf("%-24s%s%n", label, summary);
    }
  }
}
