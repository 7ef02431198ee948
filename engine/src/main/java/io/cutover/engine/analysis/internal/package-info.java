/** Boundary analysis machinery: Louvain community detection with constraints. */
package io.cutover.engine.analysis.internal;
