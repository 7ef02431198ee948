package io.cutover.engine.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A mapping both ways: the source's names to the target's, the target's changes back, and the row filter. */
class TableMappingTest {
  private static final TableMapping PAYMENTS = TableMapping.renamed("payment", "payments")
      .withColumns(columns("id", "payment_id", "amount", "amount_cents", "region", "region"))
      .withFilter(Map.of("region", Set.of("eu")));

  private static Map<String, String> columns(String... pairs) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      out.put(pairs[i], pairs[i + 1]);
    }
    return out;
  }

  @Test
  void aChangeCapturedAtTheTargetComesBackUnderTheSourcesNames() {
    ChangeEvent atService = ChangeEvent.builder(Side.service("billing"), "payments", Operation.UPDATE)
        .key(Row.of("payment_id", Value.of(7L)))
        .before(Row.of("payment_id", Value.of(7L), "amount_cents", Value.of(100L), "note", Value.of("x")))
        .after(Row.of("payment_id", Value.of(7L), "amount_cents", Value.of(250L), "note", Value.of("y")))
        .changedColumns(List.of("amount_cents", "note")).commitTimeMicros(42).build();
    ChangeEvent back = PAYMENTS.toSource(atService);
    assertEquals("payment", back.table());
    assertEquals(Row.of("id", Value.of(7L)), back.key());
    assertEquals(Row.of("id", Value.of(7L), "amount", Value.of(250L)), back.after(), "a column of its own is left out");
    assertEquals(Row.of("id", Value.of(7L), "amount", Value.of(100L)), back.before());
    assertEquals(List.of("amount"), back.changedColumns());
    assertEquals(42, back.commitTimeMicros());
    assertEquals("id", PAYMENTS.sourceColumn("payment_id"));
    assertNull(PAYMENTS.sourceColumn("note"));
    assertEquals("payment_id", PAYMENTS.targetColumn("id"));
    TableMapping same = TableMapping.identity("item");
    assertEquals("anything", same.sourceColumn("anything"));
    ChangeEvent item = ChangeEvent.builder(Side.service("s"), "item", Operation.DELETE).key(Row.of("id",
        Value.of(1L))).build();
    assertSame(item.key(), same.toSource(item).key(), "identity: the rows as they are");
  }

  @Test
  void aRowLeavingTheFilterIsDeletedAtTheTargetAndOneNeverInIsNotSent() {
    Row key = Row.of("id", Value.of(1L));
    ChangeEvent stays = ChangeEvent.builder(Side.MONOLITH, "payment", Operation.UPDATE).key(key)
        .after(Row.of("id", Value.of(1L), "region", Value.of("eu"))).build();
    assertSame(stays, PAYMENTS.filtered(stays));
    ChangeEvent leaves = ChangeEvent.builder(Side.MONOLITH, "payment", Operation.UPDATE).key(key)
        .before(Row.of("id", Value.of(1L), "region", Value.of("eu")))
        .after(Row.of("id", Value.of(1L), "region", Value.of("us"))).build();
    assertEquals(Operation.DELETE, PAYMENTS.filtered(leaves).operation());
    ChangeEvent neverIn = ChangeEvent.builder(Side.MONOLITH, "payment", Operation.INSERT).key(key)
        .after(Row.of("id", Value.of(1L), "region", Value.of("us"))).build();
    assertNull(PAYMENTS.filtered(neverIn));
  }

  @Test
  void mappingsCompareByValueAndRefuseBadNames() {
    assertEquals(TableMapping.renamed("a", "b"), TableMapping.renamed("a", "b"));
    assertEquals(TableMapping.renamed("a", "b").hashCode(), TableMapping.renamed("a", "b").hashCode());
    assertNotEquals(TableMapping.renamed("a", "b"), TableMapping.renamed("a", "c"));
    assertEquals("TableMapping[sourceTable=a, targetTable=b, columns={}, filter={}]",
        TableMapping.renamed("a", "b").toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TableMapping.renamed("a", "b; DROP TABLE x"));
    assertEquals(true, e.getMessage().contains("'b; DROP TABLE x' is not a usable table or column name"));
  }
}
