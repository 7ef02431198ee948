package io.cutover.engine.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP proxy for tests: forwards 127.0.0.1:{@link #port()} to a target, and on command adds
 * latency to every chunk, drops every open connection, or cuts the link entirely (open connections closed, new
 * ones refused) until healed.
 */
public final class FaultProxy implements AutoCloseable {
  private final InetSocketAddress target;
  private final ServerSocket server;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final AtomicLong latencyMillis = new AtomicLong();
  private volatile boolean cut;
  private volatile boolean closed;

  /**
   * Starts a proxy.
   *
   * @param host the target host.
   * @param port the target port.
   * @throws IOException if it cannot listen.
   */
  public FaultProxy(String host, int port) throws IOException {
    this.target = new InetSocketAddress(host, port);
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "fault-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * The port it listens on (loopback).
   *
   * @return the port.
   */
  public int port() {
    return server.getLocalPort();
  }

  /**
   * Adds latency to every chunk forwarded, both ways.
   *
   * @param latency the delay (zero for none).
   */
  public void latency(Duration latency) {
    latencyMillis.set(latency.toMillis());
  }

  /** Closes every open connection (clients must reconnect). */
  public void dropConnections() {
    for (Socket socket : open) {
      closeQuietly(socket);
    }
    open.clear();
  }

  /** Cuts the link: open connections are closed and new ones refused until {@link #heal()}. */
  public void cut() {
    cut = true;
    dropConnections();
  }

  /** Heals a cut. */
  public void heal() {
    cut = false;
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        if (cut) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket();
        upstream.connect(target, 5_000);
        open.add(client);
        open.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          long delay = latencyMillis.get();
          if (delay > 0) {
            Thread.sleep(delay);
          }
          if (cut) {
            break;
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // connection dropped
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        open.remove(from);
        open.remove(to);
      }
    }, "fault-proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException ignored) {
      // closing
    }
    dropConnections();
  }
}
