package io.cutover.engine.apigen.internal;

import io.cutover.engine.apigen.ApiModel;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.apigen.ApiModel.Resource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the server serves at one moment: every published version and, per version, each resource as it can be
 * served against the database as it is now (the version's fields that still exist, typed as the database has them
 * now). Immutable; the server swaps a new one in when the schema is read again.
 *
 * @param versions the published versions, oldest first.
 * @param current the model of the schema as it is now (the latest version).
 * @param resources per version number, resource name to the resource as served; a null value marks a resource of
 *     that version whose table is gone.
 * @param documents the documents made so far, by version and format (filled on first use: a document only changes
 *     when the schema does, and that makes a new instance).
 */
public record ServedVersions(List<ApiModel> versions, ApiModel current, Map<Integer, Map<String, Resource>> resources,
    Map<String, String> documents) {

  /**
   * Works out what each version can serve now.
   *
   * @param versions the published versions, oldest first.
   * @param current the current model (the latest version).
   * @return the served versions.
   */
  public static ServedVersions of(List<ApiModel> versions, ApiModel current) {
    Map<Integer, Map<String, Resource>> resources = new HashMap<>();
    for (ApiModel model : versions) {
      Map<String, Resource> served = new HashMap<>();
      for (Resource r : model.resources()) {
        Resource now = current.resource(r.name());
        if (now == null) {
          served.put(r.name(), null);
          continue;
        }
        List<Field> fields = new ArrayList<>();
        for (Field f : r.fields()) {
          Field nowField = now.field(f.name());
          if (nowField != null) {
            fields.add(nowField);
          }
        }
        for (String k : now.key()) {
          if (fields.stream().noneMatch(f -> f.name().equals(k))) {
            fields.add(now.field(k)); // a key the version did not know: rows must still be addressable
          }
        }
        served.put(r.name(), new Resource(r.name(), now.description(), fields, now.key(), now.uniques(),
            now.references()));
      }
      resources.put(model.version(), served);
    }
    return new ServedVersions(List.copyOf(versions), current, Map.copyOf(resources),
        new java.util.concurrent.ConcurrentHashMap<>());
  }

  /**
   * A version's document, made once.
   *
   * @param model the version.
   * @param yaml YAML rather than JSON.
   * @return the document.
   */
  public String document(ApiModel model, boolean yaml) {
    return documents.computeIfAbsent(model.version() + (yaml ? ".yaml" : ".json"), k -> yaml
        ? io.cutover.engine.apigen.OpenApiDocument.yaml(model, current)
        : io.cutover.engine.apigen.OpenApiDocument.json(model, current));
  }

  /**
   * A version.
   *
   * @param version its number.
   * @return the model, or null.
   */
  public ApiModel version(int version) {
    return version >= 1 && version <= versions.size() ? versions.get(version - 1) : null;
  }
}
