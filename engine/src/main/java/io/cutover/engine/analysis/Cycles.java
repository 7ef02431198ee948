package io.cutover.engine.analysis;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Circular dependencies between services through their crossing foreign keys (Tarjan's strongly connected
 *  components, then one cycle through each, with its weakest link as the suggested cut). */
final class Cycles {
  private Cycles() {}

  static List<Analysis.Cycle> find(List<Schema.ForeignKey> crossing, Map<String, String> serviceOf) {
    // service -> services it depends on -> the keys that make it depend
    Map<String, Map<String, List<Schema.ForeignKey>>> edges = new TreeMap<>();
    for (Schema.ForeignKey fk : crossing) {
      edges.computeIfAbsent(serviceOf.get(fk.table()), k -> new TreeMap<>())
          .computeIfAbsent(serviceOf.get(fk.referencedTable()), k -> new ArrayList<>()).add(fk);
    }
    Set<String> nodes = new TreeSet<>(edges.keySet());
    edges.values().forEach(m -> nodes.addAll(m.keySet()));
    List<Analysis.Cycle> out = new ArrayList<>();
    for (List<String> component : components(nodes, edges)) {
      if (component.size() < 2) {
        continue;
      }
      List<String> cycle = cycleThrough(component, edges);
      List<Schema.ForeignKey> keys = new ArrayList<>();
      String weakFrom = null;
      String weakTo = null;
      int weakest = Integer.MAX_VALUE;
      for (int i = 0; i < cycle.size(); i++) {
        String from = cycle.get(i);
        String to = cycle.get((i + 1) % cycle.size());
        List<Schema.ForeignKey> link = edges.get(from).get(to);
        keys.addAll(link);
        if (link.size() < weakest) {
          weakest = link.size();
          weakFrom = from;
          weakTo = to;
        }
      }
      List<Schema.ForeignKey> weak = edges.get(weakFrom).get(weakTo);
      String suggestion = "break the cycle at its weakest link, " + weakFrom + " -> " + weakTo + " ("
          + weak.size() + " foreign key" + (weak.size() == 1 ? "" : "s") + ": "
          + String.join(", ", weak.stream().map(Schema.ForeignKey::describe).toList()) + "): have " + weakFrom
          + " keep a copy of what it needs from " + weakTo + " (events) or call its API instead of the foreign key"
          + (weak.size() == 1 ? ", or move " + weak.get(0).table() + " into " + weakTo : "");
      out.add(new Analysis.Cycle(cycle, keys, suggestion));
    }
    return out;
  }

  /** Strongly connected components (Tarjan, iterative), each sorted, in order of their first member. */
  private static List<List<String>> components(Set<String> nodes, Map<String, Map<String, List<Schema.ForeignKey>>> edges) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new java.util.HashSet<>();
    List<List<String>> out = new ArrayList<>();
    int[] counter = {0};
    for (String start : nodes) {
      if (index.containsKey(start)) {
        continue;
      }
      Deque<Object[]> work = new ArrayDeque<>();
      work.push(new Object[] {start, new ArrayList<>(edges.getOrDefault(start, Map.of()).keySet()), 0});
      index.put(start, counter[0]);
      low.put(start, counter[0]++);
      stack.push(start);
      onStack.add(start);
      while (!work.isEmpty()) {
        Object[] frame = work.peek();
        String v = (String) frame[0];
        @SuppressWarnings("unchecked")
        List<String> next = (List<String>) frame[1];
        int i = (Integer) frame[2];
        if (i < next.size()) {
          frame[2] = i + 1;
          String w = next.get(i);
          if (!index.containsKey(w)) {
            index.put(w, counter[0]);
            low.put(w, counter[0]++);
            stack.push(w);
            onStack.add(w);
            work.push(new Object[] {w, new ArrayList<>(edges.getOrDefault(w, Map.of()).keySet()), 0});
          } else if (onStack.contains(w)) {
            low.put(v, Math.min(low.get(v), index.get(w)));
          }
        } else {
          work.pop();
          if (!work.isEmpty()) {
            String parent = (String) work.peek()[0];
            low.put(parent, Math.min(low.get(parent), low.get(v)));
          }
          if (low.get(v).equals(index.get(v))) {
            List<String> component = new ArrayList<>();
            String w;
            do {
              w = stack.pop();
              onStack.remove(w);
              component.add(w);
            } while (!w.equals(v));
            component.sort(null);
            out.add(component);
          }
        }
      }
    }
    out.sort((a, b) -> a.get(0).compareTo(b.get(0)));
    return out;
  }

  /** A shortest cycle through the component's first service (breadth first, inside the component). */
  private static List<String> cycleThrough(List<String> component, Map<String, Map<String, List<Schema.ForeignKey>>> edges) {
    String start = component.get(0);
    Map<String, String> parent = new HashMap<>();
    Deque<String> queue = new ArrayDeque<>();
    queue.add(start);
    while (!queue.isEmpty()) {
      String v = queue.poll();
      for (String w : edges.getOrDefault(v, Map.of()).keySet()) {
        if (!component.contains(w)) {
          continue;
        }
        if (w.equals(start)) {
          List<String> cycle = new ArrayList<>();
          for (String x = v; x != null; x = parent.get(x)) {
            cycle.add(0, x);
          }
          return cycle;
        }
        if (!parent.containsKey(w) && !w.equals(start)) {
          parent.put(w, v);
          queue.add(w);
        }
      }
    }
    throw new IllegalStateException("no cycle through " + start + " in its component " + component);
  }
}
