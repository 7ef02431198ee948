/**
 * What capture and apply share about databases: the SQL {@link io.cutover.engine.db.Dialect} of each supported
 * database and the conversion of column values between JDBC and {@link io.cutover.engine.event.Value}
 * ({@link io.cutover.engine.db.JdbcValues}).
 */
package io.cutover.engine.db;
