/**
 * The gRPC admin API ({@code cutover.admin.v1}) over a running engine: {@link io.cutover.admin.AdminServer}.
 * Reflection and the standard health service are on, so grpcurl works without .proto files.
 */
package io.cutover.admin;
