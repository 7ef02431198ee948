package io.cutover.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupAssignment;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Whole services to instances: both directions of a service together, spread evenly, sticky. */
class ServiceAssignorTest {
  private static final Map<String, String> UNITS = new LinkedHashMap<>();

  static {
    for (String service : List.of("billing", "orders", "payments")) {
      UNITS.put("c.monolith." + service + "_t", service);
      UNITS.put("c." + service + "." + service + "_t", service);
    }
  }

  private final Node node = new Node(1, "127.0.0.1", 9092);
  private final Cluster cluster = cluster();

  private Cluster cluster() {
    List<PartitionInfo> partitions = new ArrayList<>();
    for (String topic : UNITS.keySet()) {
      for (int p = 0; p < 3; p++) {
        partitions.add(new PartitionInfo(topic, p, node, new Node[] {node}, new Node[] {node}));
      }
    }
    return new Cluster("c", List.of(node), partitions, Set.of(), Set.of());
  }

  private static ServiceAssignor assignor() {
    ServiceAssignor assignor = new ServiceAssignor();
    assignor.configure(Map.of(ServiceAssignor.UNITS, ServiceAssignor.units(UNITS)));
    return assignor;
  }

  private Map<String, Set<String>> assign(ServiceAssignor assignor, Map<String, ServiceAssignor> members) {
    Map<String, Subscription> subscriptions = new HashMap<>();
    members.forEach((id, member) -> subscriptions.put(id, new Subscription(new ArrayList<>(UNITS.keySet()),
        member.subscriptionUserData(UNITS.keySet()))));
    GroupAssignment result = assignor.assign(cluster, new GroupSubscription(subscriptions));
    Map<String, Set<String>> services = new HashMap<>();
    result.groupAssignment().forEach((id, assignment) -> {
      Set<String> units = new TreeSet<>();
      for (TopicPartition p : assignment.partitions()) {
        units.add(UNITS.get(p.topic()));
      }
      assertEquals(units.size() * 6, assignment.partitions().size(),
          "every partition of both directions of each service goes to one instance");
      services.put(id, units);
      members.get(id).onAssignment(new Assignment(assignment.partitions(), ByteBuffer.allocate(0)), null);
    });
    return services;
  }

  @Test
  void shouldKeepEachServiceWholeSpreadThemAndMoveAsFewAsPossible() {
    ServiceAssignor leader = assignor();
    Map<String, ServiceAssignor> members = new LinkedHashMap<>();
    members.put("a", assignor());
    Map<String, Set<String>> one = assign(leader, members);
    assertEquals(Set.of("billing", "orders", "payments"), one.get("a"));
    members.put("b", assignor());
    Map<String, Set<String>> two = assign(leader, members);
    assertEquals(2, two.get("a").size(), "a newcomer gets a share: " + two);
    assertEquals(1, two.get("b").size());
    assertTrue(one.get("a").containsAll(two.get("a")), "what stays, stays with its owner");
    members.put("c", assignor());
    Map<String, Set<String>> three = assign(leader, members);
    assertEquals(Set.of(1), Set.copyOf(three.values().stream().map(Set::size).toList()));
    assertEquals(two.get("b"), three.get("b"), "b keeps its service");
    String moved = three.get("c").iterator().next();
    members.remove("a");
    Map<String, Set<String>> after = assign(leader, members);
    assertEquals(3, after.values().stream().mapToInt(Set::size).sum(), "a's service found a new owner: " + after);
    assertTrue(after.get("c").contains(moved), "c keeps what it has: " + after);
    assertEquals("cutover-service", leader.name());
  }
}
