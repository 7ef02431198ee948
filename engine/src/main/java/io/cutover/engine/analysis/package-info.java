/**
 * Service boundary analysis: reads a monolith's {@link io.cutover.engine.analysis.Schema} and optional access
 * patterns ({@link io.cutover.engine.analysis.AccessLog}), proposes services that keep transactions local
 * ({@link io.cutover.engine.analysis.BoundaryAnalyzer}), and writes the evidence and a runnable plan
 * ({@link io.cutover.engine.analysis.AnalysisWriter}).
 */
package io.cutover.engine.analysis;
