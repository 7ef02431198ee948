/**
 * The HTTP gateway: {@link io.cutover.engine.gateway.Gateway}, a Netty reverse proxy that routes each request
 * with the {@link io.cutover.engine.route.Router}.
 */
package io.cutover.engine.gateway;
