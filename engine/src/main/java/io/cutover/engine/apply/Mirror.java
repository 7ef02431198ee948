package io.cutover.engine.apply;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import java.util.List;
import java.util.Map;

/**
 * The writes that mirror a change onto a table whose source is its only writer and its truth (a table synced one
 * way, the engine API's applier): nothing to reconcile, no state to keep. The target's row becomes the change's
 * image, unconditionally (a value the target holds of its own is overwritten, as a replica's is); a delete removes
 * it; an update that changed the key first removes the row under the old key. Each write is idempotent, so a batch
 * replayed after a crash repeats nothing wrong, and {@link SideWriter}'s positions skip what was committed.
 */
public final class Mirror {
  private Mirror() {}

  /**
   * Adds the writes of one change.
   *
   * @param to the side written.
   * @param event the change, in the source's names, already through its mapping's filter
   *     ({@link TableMapping#filtered}).
   * @param index the change's journal index.
   * @param held whether the change was held and is released late (see {@link SideWriter.Indexed}).
   * @param out where the writes go, in order.
   */
  public static void writes(Side to, ChangeEvent event, long index, boolean held, List<SideWriter.Indexed> out) {
    if (event.operation() == Operation.DELETE) {
      out.add(new SideWriter.Indexed(index, new Write(to, event.table(), Write.Type.FORCE_DELETE, event.key(), null,
          null), held));
      return;
    }
    Row before = event.before();
    if (before != null && keyMoved(event.key(), before)) {
      Row.Builder oldKey = Row.builder();
      event.key().columns().keySet().forEach(column -> oldKey.put(column, before.get(column)));
      out.add(new SideWriter.Indexed(index, new Write(to, event.table(), Write.Type.FORCE_DELETE, oldKey.build(),
          null, null), held));
    }
    out.add(new SideWriter.Indexed(index, new Write(to, event.table(), Write.Type.UPSERT, event.key(),
        withKey(event.after(), event.key()), null), held));
  }

  /** The image with every key column (an image without one gets it from the key). */
  private static Row withKey(Row after, Row key) {
    for (String column : key.columns().keySet()) {
      if (!after.has(column)) {
        Row.Builder out = Row.builder();
        after.columns().forEach(out::put);
        key.columns().forEach((name, value) -> {
          if (!after.has(name)) {
            out.put(name, value);
          }
        });
        return out.build();
      }
    }
    return after;
  }

  /** Whether an update changed its row's key (the before image holds every key column, and one differs). */
  private static boolean keyMoved(Row key, Row before) {
    boolean moved = false;
    for (Map.Entry<String, Value> column : key.columns().entrySet()) {
      Value was = before.get(column.getKey());
      if (was == null) {
        return false;
      }
      moved |= !was.equals(column.getValue());
    }
    return moved;
  }
}
