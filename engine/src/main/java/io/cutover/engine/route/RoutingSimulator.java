package io.cutover.engine.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Drives synthetic traffic through a router along a weight schedule: each step sets the route's weight and sends
 * every user's requests (the user's id as the route's sticky key), then reports the split, how many users changed
 * side against the direction of the schedule (stickiness violations: must be 0), and failovers. Usable from code
 * and tests; not thread-safe.
 */
public final class RoutingSimulator {
  private RoutingSimulator() {}

  /**
   * One step's outcome.
   *
   * @param weightBps the route's weight.
   * @param requests requests sent.
   * @param toService those the service got.
   * @param serviceShare the share the service got.
   * @param usersOnService users whose requests went to the service.
   * @param stickinessViolations users who went back to the monolith while the weight did not fall, or whose
   *     requests within the step went to both sides.
   * @param failovers requests sent to the other side because theirs was down.
   * @param unavailable requests nobody could serve.
   */
  public record Step(int weightBps, long requests, long toService, double serviceShare, long usersOnService,
      long stickinessViolations, long failovers, long unavailable) {}

  /**
   * Runs a schedule.
   *
   * @param router the router (its route's weight is changed).
   * @param route the route's name.
   * @param users how many users.
   * @param requestsPerUser requests per user per step.
   * @param weights the weights, one step each.
   * @param seed orders the requests.
   * @return one result per step.
   * @throws IllegalArgumentException if the route has no sticky key or does not exist.
   */
  public static List<Step> run(Router router, String route, int users, int requestsPerUser, int[] weights,
      long seed) {
    Route r = router.table().route(route);
    if (r == null) {
      throw new IllegalArgumentException("no route named " + route);
    }
    if (r.sticky().kind() == KeySource.Kind.NONE) {
      throw new IllegalArgumentException("route " + route + " has no sticky key to simulate users with");
    }
    if (r.sticky().kind() == KeySource.Kind.PATH && Integer.parseInt(r.sticky().name())
        < r.pathPrefix().split("/").length - 1) {
      throw new IllegalArgumentException("route " + route + ": its sticky path segment lies inside its prefix");
    }
    Random random = new Random(seed);
    byte[] lastSide = new byte[users]; // 0 unknown, 1 monolith, 2 service
    List<Step> out = new ArrayList<>();
    int previousWeight = -1;
    SimulatedRequest request = new SimulatedRequest(r);
    for (int weight : weights) {
      router.setWeight(route, weight);
      long requests = 0;
      long toService = 0;
      long violations = 0;
      long failovers = 0;
      long unavailable = 0;
      long onService = 0;
      byte[] thisStep = new byte[users];
      int start = random.nextInt(users);
      for (int n = 0; n < users; n++) {
        int user = (start + n) % users;
        request.user = "user-" + user;
        for (int k = 0; k < requestsPerUser; k++) {
          Decision d = router.decide(request);
          requests++;
          if (d.reason() == Decision.Reason.FAILOVER) {
            failovers++;
          } else if (d.reason() == Decision.Reason.UNAVAILABLE) {
            unavailable++;
          }
          byte side = (byte) (d.target() == Target.SERVICE ? 2 : 1);
          if (d.target() == Target.SERVICE) {
            toService++;
          }
          if (d.reason() == Decision.Reason.WEIGHT) {
            if (thisStep[user] != 0 && thisStep[user] != side) {
              violations++;
            }
            thisStep[user] = side;
          }
        }
        if (thisStep[user] == 2) {
          onService++;
        }
        if (weight >= previousWeight && lastSide[user] == 2 && thisStep[user] == 1) {
          violations++;
        }
        if (thisStep[user] != 0) {
          lastSide[user] = thisStep[user];
        }
      }
      out.add(new Step(weight, requests, toService, requests == 0 ? 0 : toService / (double) requests, onService,
          violations, failovers, unavailable));
      previousWeight = weight;
    }
    return out;
  }

  /** A request carrying a user's id where the route looks for its sticky key. */
  private static final class SimulatedRequest implements RequestView {
    private final Route route;
    String user;

    SimulatedRequest(Route route) {
      this.route = route;
    }

    @Override
    public String method() {
      return route.methods().isEmpty() ? "GET" : route.methods().iterator().next();
    }

    @Override
    public String path() {
      if (route.sticky().kind() != KeySource.Kind.PATH) {
        return route.pathPrefix();
      }
      List<String> segments = new ArrayList<>();
      for (String segment : route.pathPrefix().split("/")) {
        if (!segment.isEmpty()) {
          segments.add(segment);
        }
      }
      int index = Integer.parseInt(route.sticky().name());
      while (segments.size() <= index) {
        segments.add("x");
      }
      segments.set(index, user);
      return "/" + String.join("/", segments);
    }

    @Override
    public String header(String name) {
      return route.sticky().kind() == KeySource.Kind.HEADER && route.sticky().name().equals(name) ? user : null;
    }

    @Override
    public String cookie(String name) {
      return route.sticky().kind() == KeySource.Kind.COOKIE && route.sticky().name().equals(name) ? user : null;
    }

    @Override
    public String query(String name) {
      return route.sticky().kind() == KeySource.Kind.QUERY && route.sticky().name().equals(name) ? user : null;
    }
  }
}
