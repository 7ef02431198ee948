package io.cutover.engine.backfill.internal;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.agrona.DirectBuffer;

/**
 * Sits between a capture and the pipeline while a backfill runs. Every change passes through unchanged and in
 * order; while a chunk's window is open, changes to its table record their keys, and when the chunk's high
 * watermark goes by, the chunk's unchanged rows are published right after it, as snapshot reads, from the capture's
 * own thread: so in the stream every snapshot row sits after every change older than its select and before every
 * change younger. With no window open, encoded changes are forwarded without being decoded.
 */
public final class WatermarkPipeline extends io.cutover.engine.pipeline.ForwardingPipeline {
  /** The table whose row the watermarks update. */
  public static final String WATERMARK_TABLE = "cutover_watermark";
  private final Side side;
  private volatile WatermarkWindow window;

  /**
   * A pipeline that merges backfill chunks into a capture's stream.
   *
   * @param delegate the real pipeline.
   * @param side the side being captured (the snapshot rows' side).
   */
  public WatermarkPipeline(Pipeline delegate, Side side) {
    super(delegate);
    this.side = side;
  }

  /**
   * Opens the window of the next chunk (before its low watermark is written).
   *
   * @param next the window.
   */
  public void expect(WatermarkWindow next) {
    window = next;
  }

  @Override
  public CompletableFuture<Long> publish(ChangeEvent event) {
    WatermarkWindow w = window;
    if (w == null) {
      return delegate.publish(event);
    }
    CompletableFuture<Long> published = delegate.publish(event);
    observe(w, event);
    return published;
  }

  @Override
  public long publishEncoded(DirectBuffer buffer, int offset, int length) {
    WatermarkWindow w = window;
    if (w == null) {
      return delegate.publishEncoded(buffer, offset, length);
    }
    ChangeEvent event = EventCodec.decode(buffer, offset, length);
    long sequence = delegate.publishEncoded(buffer, offset, length);
    observe(w, event);
    return sequence;
  }

  private void observe(WatermarkWindow w, ChangeEvent event) {
    if (event.table().equals(WATERMARK_TABLE)) {
      String mark = event.after() == null || event.after().get("mark") == null ? ""
          : event.after().get("mark").asString();
      if (mark.equals("low:" + w.id())) {
        w.lowSeen();
      } else if (mark.equals("high:" + w.id())) {
        window = null;
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        try {
          for (Row[] row : w.closeAndSelect()) {
            futures.add(delegate.publish(ChangeEvent.builder(side, w.table(), Operation.SNAPSHOT_READ).key(row[0])
                .after(row[1]).build()));
          }
          w.emitted().complete(futures);
        } catch (RuntimeException e) {
          w.emitted().completeExceptionally(e);
        }
      }
    } else if (event.table().equals(w.table())) {
      w.changed(event.key());
    }
  }

  /** Closes nothing: the pipeline belongs to whoever built it. */
  @Override
  public void close() {
    // the delegate's owner closes it
  }
}
