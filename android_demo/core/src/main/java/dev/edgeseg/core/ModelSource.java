package dev.edgeseg.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where model files and sidecars are read from: the app's assets, a folder adb pushed to, or a
 * test directory. {@link #contract} is the one loading path all of them share, so the bad-input
 * checks (unsupported extension, no sidecar, bad sidecar) are the same everywhere.
 */
public interface ModelSource {
  boolean exists(String name);

  byte[] read(String name) throws IOException;

  /** The contract of {@code file}: extension, then sidecar presence, then sidecar content. */
  default ModelContract contract(String file) throws IOException {
    ModelFiles.runtimeFor(file);
    String sidecar = ModelFiles.sidecarName(file);
    if (!exists(sidecar)) {
      throw ModelFiles.missingSidecar(file);
    }
    String text = new String(read(sidecar), StandardCharsets.UTF_8);
    return new ModelContract(ModelMetadata.parse(text, sidecar));
  }

  /** Files in a folder (java.nio, available from Android API 26). */
  static ModelSource folder(Path dir) {
    return new ModelSource() {
      @Override
      public boolean exists(String name) {
        return Files.isRegularFile(dir.resolve(name));
      }

      @Override
      public byte[] read(String name) throws IOException {
        return Files.readAllBytes(dir.resolve(name));
      }
    };
  }
}
