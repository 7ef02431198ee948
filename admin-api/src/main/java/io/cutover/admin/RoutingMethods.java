package io.cutover.admin;

import io.cutover.admin.v1.GetRoutesRequest;
import io.cutover.admin.v1.RolloutStatus;
import io.cutover.admin.v1.RouteInfo;
import io.cutover.admin.v1.RouteRequest;
import io.cutover.admin.v1.RoutesResponse;
import io.cutover.admin.v1.RuleInfo;
import io.cutover.admin.v1.SetWeightRequest;
import io.cutover.admin.v1.StartRolloutRequest;
import io.cutover.engine.migration.Migration;
import io.cutover.engine.route.Rollout;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.cutover.engine.route.Rule;
import io.cutover.engine.route.Target;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The admin API's routing methods over a migration's gateway. Thread-safe. */
final class RoutingMethods {
  private final Migration migration;

  /**
   * The methods.
   *
   * @param migration the migration, or null for a server without one.
   */
  RoutingMethods(Migration migration) {
    this.migration = migration;
  }

  private Router router() {
    if (migration == null || migration.router() == null) {
      throw Status.FAILED_PRECONDITION.withDescription("this engine runs no gateway (add a gateway section to the "
          + "configuration)").asRuntimeException();
    }
    return migration.router();
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private Route route(String name) {
    Route route = router().table().route(name);
    if (route == null) {
      throw invalid("route: '" + name + "' is not one of " + router().table().routes().stream().map(Route::name)
          .toList());
    }
    return route;
  }

  void getRoutes(GetRoutesRequest request, StreamObserver<RoutesResponse> response) {
    try {
      response.onNext(routes(router().table()));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  /**
   * The routes now, for the status.
   *
   * @return the routes, or null when the engine runs no gateway.
   */
  RoutesResponse current() {
    return migration == null || migration.router() == null ? null : routes(router().table());
  }

  void setRules(io.cutover.admin.v1.SetRulesRequest request, StreamObserver<RoutesResponse> response) {
    try {
      route(request.getRoute());
      List<Rule> rules = new ArrayList<>();
      for (int i = 0; i < request.getRulesCount(); i++) {
        RuleInfo r = request.getRules(i);
        String where = "rules[" + i + "]";
        if (r.getName().isEmpty() || r.getValue().isEmpty()) {
          throw invalid(where + ": name and value are required");
        }
        Target target = switch (r.getTarget()) {
          case "service" -> Target.SERVICE;
          case "monolith" -> Target.MONOLITH;
          default -> throw invalid(where + ".target: service or monolith, got '" + r.getTarget() + "'");
        };
        try {
          rules.add(switch (r.getKind()) {
            case "header" -> Rule.header(r.getName(), r.getValue(), target, r.getVariant());
            case "cookie" -> Rule.cookie(r.getName(), r.getValue(), target, r.getVariant());
            default -> throw invalid(where + ".kind: header or cookie, got '" + r.getKind() + "'");
          });
        } catch (IllegalArgumentException e) {
          throw invalid(where + ": " + e.getMessage());
        }
      }
      response.onNext(routes(router().setRules(request.getRoute(), rules)));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  void setWeight(SetWeightRequest request, StreamObserver<RoutesResponse> response) {
    try {
      route(request.getRoute());
      if (request.getWeightBps() > Route.ALL) {
        throw invalid("weight_bps: 0 to 10000, got " + request.getWeightBps());
      }
      response.onNext(routes(router().setWeight(request.getRoute(), request.getWeightBps())));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  void rollback(RouteRequest request, StreamObserver<RoutesResponse> response) {
    try {
      route(request.getRoute());
      Rollout running = migration.rollouts().get(request.getRoute());
      if (running != null) {
        running.stop();
      }
      response.onNext(routes(router().rollback(request.getRoute())));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  void startRollout(StartRolloutRequest request, StreamObserver<RolloutStatus> response) {
    try {
      route(request.getRoute());
      if (request.getStepsCount() == 0) {
        throw invalid("steps: at least one (weight_bps, hold_millis)");
      }
      List<Rollout.Step> steps = new ArrayList<>();
      for (int i = 0; i < request.getStepsCount(); i++) {
        var step = request.getSteps(i);
        if (step.getWeightBps() > Route.ALL) {
          throw invalid("steps[" + i + "].weight_bps: 0 to 10000, got " + step.getWeightBps());
        }
        steps.add(new Rollout.Step(step.getWeightBps(), Duration.ofMillis(step.getHoldMillis())));
      }
      if (request.getMaxErrorRate() < 0 || request.getMaxErrorRate() > 1) {
        throw invalid("max_error_rate: 0 to 1, got " + request.getMaxErrorRate());
      }
      Rollout.Thresholds thresholds = new Rollout.Thresholds(
          request.getMaxErrorRate() == 0 ? 0.01 : request.getMaxErrorRate(),
          request.getMaxP99Micros() == 0 ? 1_000_000 : request.getMaxP99Micros(),
          Duration.ofMillis(request.getWindowMillis() == 0 ? 60_000 : request.getWindowMillis()),
          request.getMinRequests() == 0 ? 100 : request.getMinRequests());
      Rollout rollout;
      try {
        rollout = migration.startRollout(request.getRoute(), steps, thresholds);
      } catch (IllegalStateException e) {
        throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
      }
      response.onNext(status(request.getRoute(), rollout));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  void stopRollout(RouteRequest request, StreamObserver<RolloutStatus> response) {
    try {
      route(request.getRoute());
      Rollout rollout = migration.rollouts().get(request.getRoute());
      if (rollout == null) {
        throw Status.NOT_FOUND.withDescription("route: no rollout of " + request.getRoute() + " was started")
            .asRuntimeException();
      }
      rollout.stop();
      response.onNext(status(request.getRoute(), rollout));
      response.onCompleted();
    } catch (StatusRuntimeException e) {
      response.onError(e);
    }
  }

  private RoutesResponse routes(RoutingTable table) {
    RoutesResponse.Builder out = RoutesResponse.newBuilder().setTableVersion(table.version());
    for (Route r : table.routes()) {
      RouteInfo.Builder info = RouteInfo.newBuilder().setName(r.name()).setPrefix(r.pathPrefix())
          .setService(r.service()).setWeightBps(r.weightBps()).setSticky(r.sticky().toString())
          .addAllMethods(r.methods()).setFailover(r.failover())
          .setServiceRequests(migration.routeStats().requests(r.name(), Target.SERVICE))
          .setServiceErrors(migration.routeStats().errors(r.name(), Target.SERVICE))
          .setMonolithRequests(migration.routeStats().requests(r.name(), Target.MONOLITH))
          .setMonolithErrors(migration.routeStats().errors(r.name(), Target.MONOLITH));
      for (Rule rule : r.rules()) {
        info.addRules(RuleInfo.newBuilder().setKind(rule.kind().name().toLowerCase(Locale.ROOT)).setName(rule.name())
            .setValue(rule.value()).setTarget(rule.target().name().toLowerCase(Locale.ROOT))
            .setVariant(rule.variant()));
      }
      Rollout rollout = migration.rollouts().get(r.name());
      if (rollout != null) {
        info.setRollout(status(r.name(), rollout));
      }
      out.addRoutes(info);
      if (router().isDown(r.service()) && !out.getUpstreamsDownList().contains(r.service())) {
        out.addUpstreamsDown(r.service());
      }
    }
    if (router().isDown(Router.MONOLITH)) {
      out.addUpstreamsDown(Router.MONOLITH);
    }
    return out.build();
  }

  private static RolloutStatus status(String route, Rollout rollout) {
    return RolloutStatus.newBuilder().setRoute(route).setState(rollout.state().name().toLowerCase(Locale.ROOT))
        .setStep(rollout.step()).setReason(rollout.reason()).build();
  }
}
