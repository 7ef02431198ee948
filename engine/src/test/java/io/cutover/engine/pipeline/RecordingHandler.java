package io.cutover.engine.pipeline;

import io.cutover.engine.event.ChangeEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongSupplier;

/** Records what it is handed, in order; thread-safe for readers. */
class RecordingHandler implements ChangeHandler {
  record Seen(long journalIndex, boolean replayed, ChangeEvent event) {}

  private final String name;
  private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  private final LongSupplier mustHaveSeenUpstream;
  private volatile long lastIndex = -1;
  private volatile int batches;
  private final long durablePosition;

  RecordingHandler(String name) {
    this(name, null, -1);
  }

  RecordingHandler(String name, LongSupplier upstreamLastIndex, long durablePosition) {
    this.name = name;
    this.mustHaveSeenUpstream = upstreamLastIndex;
    this.durablePosition = durablePosition;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long durablePosition() {
    return durablePosition;
  }

  @Override
  public void onChange(ChangeRecord change) {
    if (mustHaveSeenUpstream != null && mustHaveSeenUpstream.getAsLong() < change.journalIndex()) {
      throw new AssertionError(name + " saw journal index " + change.journalIndex() + " before its upstream stage");
    }
    seen.add(new Seen(change.journalIndex(), change.replayed(), change.decode()));
    lastIndex = change.journalIndex();
  }

  @Override
  public void onBatchEnd() {
    batches++;
  }

  long lastIndex() {
    return lastIndex;
  }

  int batches() {
    return batches;
  }

  List<Seen> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }
}
