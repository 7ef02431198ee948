/** Wiring of the generated API to Netty, JDBC and Jackson: query parsing, SQL, values, metrics, the handler. */
package io.cutover.engine.apigen.internal;
