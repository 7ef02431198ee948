/**
 * The migration's configuration: one YAML file naming the sides, how each is captured and which tables move
 * where ({@link io.cutover.engine.config.MigrationConfig}), checked against the databases before anything is
 * written ({@link io.cutover.engine.config.ConfigChecker}). Errors name the file, the key and the reason
 * ({@link io.cutover.engine.config.ConfigException}).
 */
package io.cutover.engine.config;
