package io.cutover.engine.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates the topics a migration uses when they do not exist (existing ones are left as they are). */
public final class KafkaTopics {
  private KafkaTopics() {}

  /**
   * The properties of a Kafka client: the extra ones, then the bootstrap servers.
   *
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param extra extra client properties (security, timeouts).
   * @return the properties.
   */
  public static Properties clientProperties(String bootstrapServers, Map<String, String> extra) {
    Properties p = new Properties();
    p.putAll(extra);
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return p;
  }

  /**
   * Creates the missing topics: change topics with {@code partitions} partitions, state changelogs compacted with
   * one partition.
   *
   * @param bootstrapServers Kafka's bootstrap servers.
   * @param clientProperties extra client properties (security, timeouts).
   * @param changeTopics the change topics.
   * @param partitions their partitions.
   * @param stateTopics the state changelogs.
   * @return the topics created (not those that existed).
   * @throws IllegalStateException naming the topic Kafka refused, and why.
   */
  public static List<String> ensure(String bootstrapServers, Map<String, String> clientProperties,
      Set<String> changeTopics, int partitions, Set<String> stateTopics) {
    Properties p = clientProperties(bootstrapServers, clientProperties);
    List<String> created = new ArrayList<>();
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get();
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : changeTopics) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, java.util.Optional.of(partitions), java.util.Optional.empty()));
        }
      }
      for (String topic : stateTopics) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, java.util.Optional.of(1), java.util.Optional.empty())
              .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        }
      }
      for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> result
          : admin.createTopics(missing).values().entrySet()) {
        try {
          result.getValue().get();
          created.add(result.getKey());
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("Kafka refused to create topic " + result.getKey() + ": "
                + e.getCause().getMessage(), e.getCause());
          }
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot list Kafka's topics at " + bootstrapServers + ": "
          + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating Kafka topics", e);
    }
    return created;
  }
}
