package dev.edgeseg.core;

import java.util.List;
import java.util.Map;

/**
 * Typed, validated access to one JSON object, with errors that name the file and the key.
 *
 * <p>Every sidecar key the core reads goes through these methods with a string literal, which is
 * what the CI test scans to prove the app reads only keys edgeseg writes.
 */
final class Fields {
  private final Map<String, Object> map;
  private final String source;

  Fields(Object value, String source, String what) {
    if (!(value instanceof Map)) {
      throw new ContractException(source + ": " + what + " must be a JSON object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) value;
    this.map = map;
    this.source = source;
  }

  static Fields parse(String json, String source) {
    try {
      return new Fields(Json.parse(json), source, "the file");
    } catch (IllegalArgumentException ex) {
      throw new ContractException(source + ": " + ex.getMessage() + "; re-export the model", ex);
    }
  }

  String source() {
    return source;
  }

  boolean has(String key) {
    return map.containsKey(key) && map.get(key) != Json.NULL;
  }

  Object get(String key) {
    if (!map.containsKey(key)) {
      throw fail("missing key '" + key + "'; re-export the model with edgeseg");
    }
    return map.get(key);
  }

  String string(String key) {
    Object v = get(key);
    if (!(v instanceof String)) {
      throw fail(key + " must be a string, got " + Json.write(v));
    }
    return (String) v;
  }

  String optString(String key, String fallback) {
    return has(key) ? string(key) : fallback;
  }

  String choice(String key, String... valid) {
    Object v = get(key);
    for (String option : valid) {
      if (option.equals(v)) {
        return option;
      }
    }
    throw fail(key + " must be one of " + String.join(", ", valid) + ", got " + Json.write(v));
  }

  List<Object> list(String key) {
    Object v = get(key);
    if (!(v instanceof List)) {
      throw fail(key + " must be a list, got " + Json.write(v));
    }
    @SuppressWarnings("unchecked")
    List<Object> list = (List<Object>) v;
    return list;
  }

  Fields object(String key) {
    return new Fields(get(key), source, key);
  }

  ContractException fail(String what) {
    return new ContractException(source + ": " + what);
  }

  static boolean isInt(Object v) {
    return v instanceof Long;
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double;
  }

  static double number(Object v) {
    return ((Number) v).doubleValue();
  }
}
