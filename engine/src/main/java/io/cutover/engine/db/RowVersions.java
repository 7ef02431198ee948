package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Row versions: capture also records, per row and in the application's own transaction, the application's last
 * change to it: trigger capture (H2, PostgreSQL) its change sequence number ({@link #TABLE}), logical decoding,
 * through a small trigger per table, its transaction id ({@link #TRANSACTIONS}). Before writing a batch to such a
 * side, sync locks the rows it sets conditionally, reads their versions, and sets a column (deletes a row) only
 * where the version is the last change sync has reconciled: a row the application changed since is left alone,
 * however its values compare (its change is on the way and is reconciled when it arrives). Comparing values alone
 * cannot tell the application's write of a value from sync's write of the same value, so a write could overwrite
 * an application's newer value when the two happened to be equal (the ABA race). Locking first closes the window
 * in which an application transaction holding the row, not yet committed, would be invisible to the check.
 *
 * <p>One row per application row ever changed: its table, its key in a canonical text form, and the version.
 * Dropped with the rest of capture's objects by {@code cutover cleanup}.
 */
public final class RowVersions {
  /** The version table. */
  public static final String TABLE = "cutover_row_versions";
  /** Its definition. */
  public static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " (table_name VARCHAR(128) NOT NULL,"
      + " row_key VARCHAR(1024) NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (table_name, row_key))";
  /** The trigger's statement: table, key, sequence number. */
  public static final String MERGE_H2 = "MERGE INTO " + TABLE + " (table_name, row_key, seq) KEY (table_name, row_key)"
      + " VALUES (?, ?, ?)";

  /**
   * Row transactions: with logical decoding, which has no change sequence, a trigger records the id of the
   * application transaction that last changed each row (32 bits, as {@code pgoutput} reports it with each change),
   * and sync's writes require it to be the last one sync has reconciled for that row.
   */
  public static final String TRANSACTIONS = "cutover_row_transactions";
  /**
   * Its definition (PostgreSQL). Unlogged: a logged table doubled the WAL logical decoding reads, which took a
   * third of the capacity of the 10,000 changes/s benchmark on 2 cores. The price: a crash of the database empties
   * it, and the rows whose changes were still on their way then are written on their value conditions alone
   * until they change again (each new change records its transaction again).
   */
  public static final String CREATE_TRANSACTIONS = "CREATE UNLOGGED TABLE IF NOT EXISTS " + TRANSACTIONS
      + " (table_name VARCHAR(128) NOT NULL, row_key VARCHAR(1024) NOT NULL, xid BIGINT NOT NULL,"
      + " PRIMARY KEY (table_name, row_key))";
  /** The row key's text built in PL/pgSQL from {@code r} (the row as JSONB) and the trigger's arguments. */
  private static final String PG_KEY = "(SELECT string_agg(k || '=' || coalesce(r ->> k, ''), chr(31) "
      + "ORDER BY k COLLATE \"C\") FROM unnest(TG_ARGV) AS k)";
  /**
   * The row version part of trigger capture's PL/pgSQL function, given the change's sequence number in {@code s}.
   *
   * @param schema the quoted schema of Cutover's tables, with its dot.
   * @return the PL/pgSQL.
   */
  public static String pgRecordSequence(String schema) {
    return "IF TG_NARGS > 0 THEN "
        + "r := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END; "
        + "INSERT INTO " + schema + TABLE + " (table_name, row_key, seq) VALUES (TG_TABLE_NAME, " + PG_KEY + ", s) "
        + "ON CONFLICT (table_name, row_key) DO UPDATE SET seq = EXCLUDED.seq; END IF; ";
  }

  /**
   * How Cutover's trigger functions on PostgreSQL skip Cutover's own apply sessions: by their replication origin
   * ({@link ApplySessions}), which only a role allowed {@code pg_replication_origin_session_setup} can set up, so
   * that an application session cannot hide its writes from capture (a session setting could be set by anyone).
   * The functions run as Cutover's role, which needs {@code EXECUTE} on
   * {@code pg_replication_origin_session_is_setup()} unless it is a superuser.
   */
  public static final String PG_SKIP_APPLY = "IF pg_replication_origin_session_is_setup() THEN RETURN NULL; END IF; ";

  /**
   * A PostgreSQL identifier, quoted.
   *
   * @param identifier the name.
   * @return it in double quotes, inner quotes doubled.
   */
  public static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }
  /**
   * The trigger function logical capture installs for one table: records the row's last application transaction
   * under the key's text, built from the key's columns directly (no JSON: it runs once per changed row).
   *
   * @param table the table (its unqualified name is what {@code pgoutput} reports).
   * @param keys the key's columns.
   * @param schema the schema of Cutover's tables (the installing session's current schema).
   * @return the statements creating the function ({@link #transactionFunction(String)}) and taking it from
   *     {@code PUBLIC}.
   */
  public static java.util.List<String> pgTransactionFunction(String table, java.util.List<String> keys,
      String schema) {
    String name = table.substring(table.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    String q = quote(schema) + ".";
    String function = q + transactionFunction(table);
    // runs as Cutover's role with a fixed search path (see PgChangeRows#function): the application's role needs no
    // privilege on the table it writes
    return java.util.List.of("CREATE OR REPLACE FUNCTION " + function + " RETURNS trigger LANGUAGE plpgsql "
        + "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN " + PG_SKIP_APPLY
        + "INSERT INTO " + q + TRANSACTIONS + " (table_name, row_key, xid) VALUES ('" + name.replace("'", "''")
        + "', CASE WHEN TG_OP = 'DELETE' THEN " + pgKey("OLD", keys) + " ELSE " + pgKey("NEW", keys) + " END, "
        + "txid_current() % 4294967296) ON CONFLICT (table_name, row_key) DO UPDATE SET xid = EXCLUDED.xid; "
        + "RETURN NULL; END $$", "REVOKE ALL ON FUNCTION " + function + " FROM PUBLIC");
  }

  /**
   * The name (with its empty argument list) of a table's row transaction function.
   *
   * @param table the table.
   * @return {@code cutover_row_transaction_<table>()}.
   */
  public static String transactionFunction(String table) {
    return pgName(TRANSACTION_TRIGGER_PREFIX, table) + "()";
  }

  /**
   * The name of a PostgreSQL object Cutover creates for a table (a trigger, a function): the prefix and the table,
   * and when that is longer than PostgreSQL keeps (63 bytes, beyond which it cuts names, so that two long table
   * names would meet in one trigger), as much as fits and a hash of the whole table name.
   *
   * @param prefix the object's prefix.
   * @param table the table.
   * @return the name, at most 63 bytes.
   */
  public static String pgName(String prefix, String table) {
    String full = prefix + table.replace('.', '_').toLowerCase(Locale.ROOT);
    if (full.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= MAX_NAME_BYTES) {
      return full;
    }
    String hash = String.format(Locale.ROOT, "_%08x", table.toLowerCase(Locale.ROOT).hashCode());
    String kept = full;
    while (kept.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_BYTES - hash.length()) {
      kept = kept.substring(0, kept.length() - 1);
    }
    return kept + hash;
  }

  /** The longest identifier PostgreSQL keeps whole (NAMEDATALEN - 1). */
  private static final int MAX_NAME_BYTES = 63;

  /** {@link #key} in SQL over a row variable: the same text for integer, text and UUID columns. */
  private static String pgKey(String row, java.util.List<String> keys) {
    java.util.List<String> sorted = new java.util.ArrayList<>();
    for (String key : keys) {
      sorted.add(key.toLowerCase(Locale.ROOT));
    }
    java.util.Collections.sort(sorted);
    StringBuilder sql = new StringBuilder();
    for (String key : sorted) {
      if (sql.length() > 0) {
        sql.append(" || chr(31) || ");
      }
      sql.append("'").append(key.replace("'", "''")).append("=' || coalesce(").append(row).append(".\"")
          .append(key.replace("\"", "\"\"")).append("\"::text, '')");
    }
    return sql.toString();
  }

  /** The prefix of the triggers logical capture installs. */
  public static final String TRANSACTION_TRIGGER_PREFIX = "cutover_row_transaction_";

  /** How a side keeps row versions. */
  public enum Kind {
    /** It does not: writes are conditioned on values alone. */
    NONE,
    /** By change sequence number (trigger capture): a write needs the row's version at most the last seen. */
    SEQUENCE,
    /** By transaction id (logical decoding): a write needs the row's last transaction to be the last seen. */
    TRANSACTION
  }

  private RowVersions() {}

  /**
   * The query reading rows' versions: parameters the table, then the rows' keys.
   *
   * @param kind how the side keeps them.
   * @param keys how many keys.
   * @return the SQL, rows of (key, version).
   */
  public static String select(Kind kind, int keys) {
    return selectWhere(kind, "IN (" + String.join(", ", java.util.Collections.nCopies(keys, "?")) + ")");
  }

  /**
   * The query reading rows' versions with the keys as one array parameter (PostgreSQL): one text whatever the
   * count, prepared once on the server.
   *
   * @param kind how the side keeps them.
   * @return the SQL, rows of (key, version); parameters the table, then a {@code text[]} of keys.
   */
  public static String selectArray(Kind kind) {
    return selectWhere(kind, "= ANY (?)");
  }

  private static String selectWhere(Kind kind, String keys) {
    boolean sequence = kind == Kind.SEQUENCE;
    return "SELECT row_key, " + (sequence ? "seq" : "xid") + " FROM " + (sequence ? TABLE : TRANSACTIONS)
        + " WHERE table_name = ? AND row_key " + keys;
  }

  /**
   * The trigger arguments naming a table's key columns, as SQL literals.
   *
   * @param keys the key's columns.
   * @return {@code 'a', 'b'}.
   */
  public static String triggerArguments(java.util.List<String> keys) {
    return String.join(", ", keys.stream().map(k -> "'" + k.toLowerCase(Locale.ROOT).replace("'", "''") + "'")
        .toList());
  }

  /**
   * A row's key in the version table's canonical text form: the key columns by name (lower case), each as
   * {@code name=value}, separated by a unit separator, so a key reads the same whichever side's types carried it.
   * PostgreSQL's trigger function builds the same text from the row's JSON: integer, text and UUID keys read
   * alike; a key of another type finds no version, and the write falls back to its value conditions.
   *
   * @param key the key columns, in the captured table's names.
   * @return the text.
   */
  public static String key(Map<String, Value> key) {
    Map<String, Value> sorted = new TreeMap<>();
    key.forEach((name, value) -> sorted.put(name.toLowerCase(Locale.ROOT), value));
    StringBuilder text = new StringBuilder();
    for (Map.Entry<String, Value> column : sorted.entrySet()) {
      if (text.length() > 0) {
        text.append('\u001f');
      }
      text.append(column.getKey()).append('=').append(text(column.getValue()));
    }
    return text.toString();
  }

  private static String text(Value value) {
    return switch (value.type()) {
      case INT -> Long.toString(value.asLong());
      case STRING -> value.asString();
      case DECIMAL -> value.asDecimal().stripTrailingZeros().toPlainString();
      default -> value.type() == ValueType.NULL ? "" : value.toString();
    };
  }
}
