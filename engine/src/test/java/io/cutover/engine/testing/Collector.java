package io.cutover.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A pipeline stage that keeps every change it is handed, for tests to look at. Thread-safe list. */
public final class Collector implements ChangeHandler {
  /** The changes, in the order handed over. */
  public final List<ChangeEvent> events = Collections.synchronizedList(new ArrayList<>());

  @Override
  public String name() {
    return "collector";
  }

  @Override
  public void onChange(ChangeRecord change) {
    events.add(change.decode());
  }

  /**
   * Waits until a number of changes arrived (60 s at most) and checks there are exactly that many.
   *
   * @param count the number.
   * @throws InterruptedException if interrupted.
   */
  public void await(int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (events.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(count, events.size(), "events: " + events);
  }
}
