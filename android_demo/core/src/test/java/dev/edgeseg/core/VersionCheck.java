package dev.edgeseg.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * {@code VersionCheck SIDECAR RUNTIME APP_VERSION}: what the app decides for a model with that
 * sidecar when it links {@code RUNTIME} at {@code APP_VERSION} ({@link RuntimeVersions#check}).
 * Prints {@code ok} or {@code refused: MESSAGE}; pytest's version-drift test runs it with the
 * pins of gradle/libs.versions.toml and sidecars written by edgeseg's exporter.
 */
public final class VersionCheck {
  private VersionCheck() {}

  public static void main(String[] args) throws IOException {
    String name = Paths.get(args[0]).getFileName().toString();
    String text = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
    ModelMetadata meta = ModelMetadata.parse(text, name);
    try {
      RuntimeVersions.check(name.replaceAll("\\.json$", ""), meta, args[1], args[2]);
      System.out.println("ok");
    } catch (ContractException ex) {
      System.out.println("refused: " + ex.getMessage());
    }
  }
}
