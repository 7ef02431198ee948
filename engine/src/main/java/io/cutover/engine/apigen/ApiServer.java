package io.cutover.engine.apigen;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.cutover.engine.apigen.internal.ApiMetrics;
import io.cutover.engine.apigen.internal.Endpoints;
import io.cutover.engine.apigen.internal.HttpApi;
import io.cutover.engine.apigen.internal.ServedVersions;
import io.cutover.engine.db.Dialect;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * Serves a service's generated API over HTTP/1.1 on Netty: {@code /vN/{resource}} and
 * {@code /vN/{resource}/{key}} for every published version, {@code /vN/openapi.json|yaml}, {@code /openapi.json}
 * (the latest), {@code /health} and {@code /metrics}. Requests run on a pool of workers, one database connection
 * each (HikariCP); when all are busy and the queue is full, 503. Writes are ordinary database writes, so Cutover's
 * sync carries them like any other change. Binds to loopback unless configured otherwise. Thread-safe.
 */
public final class ApiServer implements AutoCloseable {
  private final String service;
  private final Collection<String> tables;
  private final ApiVersions versions;
  private final HikariDataSource pool;
  private final ThreadPoolExecutor workers;
  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup io = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final ApiMetrics metrics = new ApiMetrics();
  private final Channel channel;
  private volatile ServedVersions served;

  private ApiServer(ApiServerConfig config, DataSource ds, String service, Collection<String> tables,
      ApiVersions versions, List<ApiHook> hooks) throws SQLException, IOException, InterruptedException {
    this.service = service;
    this.tables = List.copyOf(tables);
    this.versions = versions;
    Dialect dialect;
    try (Connection c = ds.getConnection()) {
      dialect = Dialect.of(c);
    }
    HikariConfig hikari = new HikariConfig();
    hikari.setDataSource(ds);
    hikari.setPoolName("cutover-api-" + service);
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setMinimumIdle(Math.min(2, config.poolSize()));
    hikari.setConnectionTimeout(5_000);
    // the timeout is the session's, set once per connection: a per-statement timeout costs a timer task per query
    long timeoutMs = config.queryTimeout().toMillis();
    hikari.setConnectionInitSql(dialect == Dialect.POSTGRESQL ? "SET statement_timeout = " + timeoutMs
        : "SET QUERY_TIMEOUT " + timeoutMs);
    this.pool = new HikariDataSource(hikari);
    AtomicInteger threads = new AtomicInteger();
    this.workers = new ThreadPoolExecutor(config.poolSize(), config.poolSize(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(config.maxQueued()), r -> {
          Thread t = new Thread(r, "cutover-api-" + service + "-" + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    Channel bound = null;
    try {
      reload();
      HttpApi handler = new HttpApi(config, () -> served, pool, new Endpoints(dialect), hooks, metrics, workers);
      bound = new ServerBootstrap().group(boss, io).channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpServerCodec(4096, config.maxHeaderBytes(), 8192),
                  new HttpObjectAggregator(config.maxBodyBytes()), handler);
            }
          }).bind(config.host(), config.port()).sync().channel();
    } finally {
      if (bound == null) {
        shutdown();
      }
    }
    this.channel = bound;
  }

  /**
   * Generates the API of some tables and serves it.
   *
   * @param config where to listen and the bounds.
   * @param ds the service's database (the server pools its own connections from it).
   * @param service the service's name.
   * @param tables the tables to expose; empty exposes all but Cutover's own.
   * @param versions the published versions; the schema as it is now is admitted as the latest.
   * @param hooks user code around each request, in order.
   * @return the running server.
   * @throws SQLException if the database cannot be read.
   * @throws IOException if a new version cannot be stored.
   * @throws InterruptedException if interrupted while binding.
   * @throws IllegalArgumentException naming a table that does not exist.
   */
  public static ApiServer start(ApiServerConfig config, DataSource ds, String service, Collection<String> tables,
      ApiVersions versions, List<ApiHook> hooks) throws SQLException, IOException, InterruptedException {
    return new ApiServer(config, ds, service, tables, versions, hooks);
  }

  /**
   * Reads the schema again and, when it changed, publishes the next version; the old versions keep serving.
   *
   * @return the latest version.
   * @throws SQLException if the database cannot be read.
   * @throws IOException if the new version cannot be stored (nothing changes then).
   */
  public synchronized ApiModel reload() throws SQLException, IOException {
    ApiModel current = versions.admit(ApiGenerator.model(pool, service, tables));
    served = ServedVersions.of(versions.all(), current);
    return current;
  }

  /**
   * The port the server listens on.
   *
   * @return the port.
   */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /**
   * The latest published version.
   *
   * @return the model.
   */
  public ApiModel current() {
    return served.current();
  }

  /**
   * Every published version, oldest first.
   *
   * @return the models.
   */
  public List<ApiModel> versions() {
    return new ArrayList<>(served.versions());
  }

  /**
   * The server's metrics in the Prometheus text format (also served at {@code /metrics}).
   *
   * @return the text.
   */
  public String metrics() {
    return metrics.prometheus();
  }

  /** Stops accepting, finishes the requests in flight, closes the pool. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    shutdown();
  }

  private void shutdown() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdown();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    io.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    pool.close();
  }
}
