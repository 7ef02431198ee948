/** Validation's machinery: canonical row hashing, Merkle trees, streaming table reads. */
package io.cutover.engine.validate.internal;
