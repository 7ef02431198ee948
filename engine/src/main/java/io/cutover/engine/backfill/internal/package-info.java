/** The watermark window that merges snapshot chunks into a capture's change stream. */
package io.cutover.engine.backfill.internal;
