package io.cutover.engine.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group assignor that hands out whole services, not partitions: every partition of every topic of one
 * service (the monolith's tables it syncs and its own) goes to one instance, so the two directions of a
 * bi-directional sync meet in one place, and services spread evenly over the instances. Sticky: a service stays
 * with the instance that has it (each member tells the group what it holds) unless the spread is uneven by more
 * than one; a moved service is taken over from its state changelog. Configured with {@link #UNITS}: {@code
 * topic=service} pairs separated by {@code ;} (a topic not named is a service of its own).
 */
public final class ServiceAssignor implements ConsumerPartitionAssignor, Configurable {
  /** The consumer property naming each topic's service. */
  public static final String UNITS = "cutover.assignor.units";
  private final Map<String, String> unitOfTopic = new HashMap<>();
  private volatile Set<String> owned = Set.of();

  @Override
  public void configure(Map<String, ?> configs) {
    Object units = configs.get(UNITS);
    if (units != null) {
      for (String pair : units.toString().split(";")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          unitOfTopic.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
      }
    }
  }

  /**
   * The {@link #UNITS} value for a mapping of topics to services.
   *
   * @param units topic to service.
   * @return the property's value.
   */
  public static String units(Map<String, String> units) {
    StringBuilder out = new StringBuilder();
    units.forEach((topic, unit) -> out.append(out.length() == 0 ? "" : ";").append(topic).append('=').append(unit));
    return out.toString();
  }

  private String unit(String topic) {
    return unitOfTopic.getOrDefault(topic, topic);
  }

  @Override
  public ByteBuffer subscriptionUserData(Set<String> topics) {
    return ByteBuffer.wrap(String.join("\n", owned).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public GroupAssignment assign(Cluster metadata, GroupSubscription groupSubscription) {
    Map<String, Subscription> members = new TreeMap<>(groupSubscription.groupSubscription());
    Map<String, Set<String>> topicsOfUnit = new TreeMap<>();
    for (Subscription s : members.values()) {
      for (String topic : s.topics()) {
        topicsOfUnit.computeIfAbsent(unit(topic), u -> new TreeSet<>()).add(topic);
      }
    }
    Map<String, List<String>> unitsOf = new TreeMap<>();
    members.keySet().forEach(m -> unitsOf.put(m, new ArrayList<>()));
    Set<String> claimed = new LinkedHashSet<>();
    for (Map.Entry<String, Subscription> m : members.entrySet()) {
      ByteBuffer data = m.getValue().userData();
      if (data == null || !data.hasRemaining()) {
        continue;
      }
      byte[] bytes = new byte[data.remaining()];
      data.duplicate().get(bytes);
      for (String unit : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
        if (topicsOfUnit.containsKey(unit) && claimed.add(unit)) {
          unitsOf.get(m.getKey()).add(unit);
        }
      }
    }
    for (String unit : topicsOfUnit.keySet()) {
      if (!claimed.contains(unit)) {
        fewest(unitsOf).add(unit);
      }
    }
    while (true) { // even the spread out: a member holding two more than another gives one up
      List<String> most = null;
      for (List<String> units : unitsOf.values()) {
        if (most == null || units.size() > most.size()) {
          most = units;
        }
      }
      List<String> least = fewest(unitsOf);
      if (most == null || most.size() - least.size() <= 1) {
        break;
      }
      least.add(most.remove(most.size() - 1));
    }
    Map<String, Assignment> out = new HashMap<>();
    for (Map.Entry<String, List<String>> m : unitsOf.entrySet()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String unit : m.getValue()) {
        for (String topic : topicsOfUnit.get(unit)) {
          Integer count = metadata.partitionCountForTopic(topic);
          for (int p = 0; count != null && p < count; p++) {
            partitions.add(new TopicPartition(topic, p));
          }
        }
      }
      out.put(m.getKey(), new Assignment(partitions));
    }
    return new GroupAssignment(out);
  }

  private static List<String> fewest(Map<String, List<String>> unitsOf) {
    List<String> least = null;
    for (List<String> units : unitsOf.values()) {
      if (least == null || units.size() < least.size()) {
        least = units;
      }
    }
    return least;
  }

  @Override
  public void onAssignment(Assignment assignment, ConsumerGroupMetadata metadata) {
    Set<String> units = new TreeSet<>();
    for (TopicPartition p : assignment.partitions()) {
      units.add(unit(p.topic()));
    }
    owned = units;
  }

  @Override
  public String name() {
    return "cutover-service";
  }
}
