package dev.edgeseg.core;

import java.util.Locale;

/**
 * A runtime library's exception (ONNX Runtime's checked {@code OrtException}, ExecuTorch's
 * {@code ExecutorchRuntimeException}, LiteRT's {@code IllegalArgumentException}, a native library
 * that did not load, memory) turned into the app's one-line message: which file, what failed, and
 * what to do. Each runtime adapter calls {@link #translate} from one place, so no runtime error
 * reaches the UI as a crash or as a bare stack-trace text.
 */
public final class RuntimeFailure {
  private RuntimeFailure() {}

  /** Display names of the app's runtimes (the names {@link ModelFiles#RUNTIMES} uses). */
  static String display(String runtime) {
    switch (runtime) {
      case "litert": return "LiteRT";
      case "executorch": return "ExecuTorch";
      case "onnxruntime": return "ONNX Runtime";
      default: return runtime;
    }
  }

  /**
   * The message for {@code error}, thrown by {@code runtime} ({@code appVersion}) while it did
   * {@code action} ("load", "run") on {@code file}. A ContractException passes through
   * unchanged (it already is a message); anything else becomes one, with its cause kept.
   */
  public static ContractException translate(
      String runtime, String appVersion, String file, String action, Throwable error) {
    if (error instanceof ContractException) {
      return (ContractException) error;
    }
    String name = display(runtime) + " " + appVersion;
    String detail = firstLine(error);
    String all = error.getMessage() == null ? "" : error.getMessage();
    String hint = hint(runtime, name, error, all.toLowerCase(Locale.ROOT));
    return new ContractException(
        file + ": " + name + " could not " + action + " it (" + detail + "); " + hint, error);
  }

  private static String hint(String runtime, String name, Throwable error, String lower) {
    String toml = "android_demo/gradle/libs.versions.toml";
    if (error instanceof OutOfMemoryError) {
      return "the phone ran out of memory: close other apps, or use a smaller --size or an int8"
          + " export";
    }
    if (error instanceof UnsatisfiedLinkError || error instanceof NoClassDefFoundError) {
      return "the runtime's native library did not load on this phone (the app ships arm64-v8a"
          + " and x86_64 only)";
    }
    boolean opVersion = lower.contains("didn't find op for builtin opcode")
        || lower.contains("op builtin_code out of range")
        || lower.contains("is under development") || lower.contains("opset")
        || lower.contains("unsupported model ir version");
    if (opVersion) {
      return "the model needs a newer runtime than this app's " + name + ": raise " + runtime
          + " in " + toml + " and rebuild the app, or re-export with the versions it names";
    }
    if (runtime.equals("executorch") && (lower.contains("operator missing")
        || lower.contains("invalid program") || lower.contains("0x14"))) {
      return "the .pte needs the ExecuTorch release that exported it: keep executorch in " + toml
          + " equal to the executorch that ran edgeseg export";
    }
    if (lower.contains("delegate") || lower.contains("gpu") || lower.contains("nnapi")) {
      return "the delegate failed on this phone: pick cpu instead";
    }
    return "see logcat for the runtime's own log; re-export the model if it persists";
  }

  /** The exception's first message line (its class name when it has none), at most 240 chars. */
  static String firstLine(Throwable error) {
    String msg = error.getMessage();
    String line = msg == null || msg.trim().isEmpty()
        ? error.getClass().getSimpleName()
        : msg.trim().split("\\R", 2)[0].trim();
    return line.length() > 240 ? line.substring(0, 237) + "..." : line;
  }
}
