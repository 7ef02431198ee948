package io.cutover.engine.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The writes that mirror a change onto a target whose source is its only writer. */
class MirrorTest {
  private static final Side TO = Side.service("svc");

  private static List<SideWriter.Indexed> mirror(ChangeEvent event) {
    List<SideWriter.Indexed> out = new ArrayList<>();
    Mirror.writes(TO, event, 9, false, out);
    return out;
  }

  @Test
  void anUpdateIsTheRowsImageADeleteRemovesItAMovedKeyRemovesTheOldRowFirst() {
    Row key = Row.of("id", Value.of(2L));
    List<SideWriter.Indexed> update = mirror(ChangeEvent.builder(Side.MONOLITH, "item", Operation.UPDATE).key(key)
        .before(Row.of("id", Value.of(2L), "n", Value.of(1L))).after(Row.of("id", Value.of(2L), "n", Value.of(5L)))
        .build());
    assertEquals(List.of(new SideWriter.Indexed(9, new Write(TO, "item", Write.Type.UPSERT, key,
        Row.of("id", Value.of(2L), "n", Value.of(5L)), null))), update);

    List<SideWriter.Indexed> moved = mirror(ChangeEvent.builder(Side.MONOLITH, "item", Operation.UPDATE).key(key)
        .before(Row.of("id", Value.of(1L), "n", Value.of(1L))).after(Row.of("id", Value.of(2L), "n", Value.of(1L)))
        .build());
    assertEquals(2, moved.size());
    assertEquals(new Write(TO, "item", Write.Type.FORCE_DELETE, Row.of("id", Value.of(1L)), null, null),
        moved.get(0).write());
    assertEquals(Write.Type.UPSERT, moved.get(1).write().type());

    List<SideWriter.Indexed> deleted = mirror(ChangeEvent.builder(Side.MONOLITH, "item", Operation.DELETE).key(key)
        .build());
    assertEquals(List.of(new SideWriter.Indexed(9, new Write(TO, "item", Write.Type.FORCE_DELETE, key, null, null))),
        deleted);
  }

  @Test
  void anImageWithoutItsKeyColumnsGetsThemFromTheKey() {
    List<SideWriter.Indexed> out = mirror(ChangeEvent.builder(Side.MONOLITH, "item", Operation.INSERT)
        .key(Row.of("id", Value.of(3L))).after(Row.of("n", Value.of(7L))).build());
    assertEquals(Row.of("n", Value.of(7L), "id", Value.of(3L)), out.get(0).write().values());
  }
}
