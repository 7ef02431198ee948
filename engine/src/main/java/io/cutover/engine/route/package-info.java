/**
 * Traffic routing: the lock-free {@link io.cutover.engine.route.Router} (sticky, weighted, rules, health),
 * {@link io.cutover.engine.route.Rollout} schedules with automatic rollback, the
 * {@link io.cutover.engine.route.RoutingSimulator}, and {@link io.cutover.engine.route.MeshExport} to Envoy and
 * Istio. The HTTP gateway that uses them comes with the gateway work.
 */
package io.cutover.engine.route;
