package dev.edgeseg.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which runtime runs a model file (by extension), where its sidecar is, and the models index
 * ({@code assets/models/index.json}) that {@code edgeseg android-demo add} writes.
 */
public final class ModelFiles {
  /** Extension → runtime name; the app registers one runtime factory per name. */
  public static final Map<String, String> RUNTIMES;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(".tflite", "litert");
    m.put(".pte", "executorch");
    m.put(".onnx", "onnxruntime");
    RUNTIMES = Collections.unmodifiableMap(m);
  }

  public static final String INDEX = "index.json";

  private ModelFiles() {}

  /** The runtime for {@code file}, or a ContractException listing the extensions the app runs. */
  public static String runtimeFor(String file) {
    String name = file.substring(file.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot).toLowerCase(Locale.ROOT);
    String runtime = RUNTIMES.get(ext);
    if (runtime == null) {
      throw new ContractException(name + ": the app cannot run '" + (ext.isEmpty() ? name : ext)
          + "' files (it runs " + String.join(", ", RUNTIMES.keySet())
          + "); export with --target tflite, executorch or onnx");
    }
    return runtime;
  }

  /** {@code model.tflite} → {@code model.tflite.json} (what edgeseg.sidecar.sidecar_path names). */
  public static String sidecarName(String file) {
    return file + ".json";
  }

  /** The error for a model whose sidecar is absent (the app shows it instead of crashing). */
  public static ContractException missingSidecar(String file) {
    return new ContractException(file + " has no sidecar " + sidecarName(file)
        + ": the app needs it to feed the model; export with edgeseg export (it writes one) or"
        + " add the model with edgeseg android-demo add");
  }

  /** One row of the models index. */
  public static final class Entry {
    public final String file;
    public final String label;

    Entry(String file, String label) {
      this.file = file;
      this.label = label;
    }
  }

  /** Parse index.json: {"models": [{"file": …, "label": …}, …]}; rows keep their order. */
  public static List<Entry> parseIndex(String json, String source) {
    Fields index = Fields.parse(json, source);
    List<Entry> out = new ArrayList<>();
    for (Object row : index.list("models")) {
      Fields f = new Fields(row, source, "each entry of models");
      String file = f.string("file");
      out.add(new Entry(file, f.optString("label", file)));
    }
    return out;
  }
}
