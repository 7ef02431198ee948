/**
 * API generation: a PostgREST-class REST API for a migrated service, generated from its tables. {@link
 * io.cutover.engine.apigen.ApiGenerator} introspects the tables into an {@link io.cutover.engine.apigen.ApiModel}
 * and writes its OpenAPI 3.1 document ({@link io.cutover.engine.apigen.OpenApiDocument}); {@link
 * io.cutover.engine.apigen.ApiVersions} keeps every published version so {@code /v1} keeps its contract when the
 * schema moves on; {@link io.cutover.engine.apigen.ApiServer} serves the endpoints on Netty, with filters,
 * keyset pagination, validation, problem+json errors, metrics and {@link io.cutover.engine.apigen.ApiHook}s.
 */
package io.cutover.engine.apigen;
