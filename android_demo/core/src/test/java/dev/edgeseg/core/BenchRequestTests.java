package dev.edgeseg.core;

import static dev.edgeseg.core.TestRunner.check;
import static dev.edgeseg.core.TestRunner.expectError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

/** What another app may make the exported BenchActivity read: only the app's folders. */
final class BenchRequestTests {
  private BenchRequestTests() {}

  /** A phone-like layout: the app's files folder, adb's staging folder and a private file. */
  static final class Phone implements AutoCloseable {
    final Path top;
    final Path files;
    final Path staging;
    final Path secret;
    final BenchRequest request;

    Phone() throws IOException {
      top = Files.createTempDirectory("edgeseg-bench-paths").toRealPath();
      files = Files.createDirectories(top.resolve("storage/emulated/0/Android/data/app/files"));
      staging = Files.createDirectories(top.resolve("data/local/tmp/edgeseg"));
      secret = Files.write(top.resolve("data/data/other.app/secret.db".replace('/', '_')),
          new byte[] {1});
      Files.createDirectories(files.resolve("edgeseg/run1/images"));
      Files.write(files.resolve("edgeseg/run1/m.tflite"), new byte[] {2});
      request = new BenchRequest(files, Arrays.asList(staging));
    }

    /** Remove the tree (links themselves, never what they point to). */
    @Override
    public void close() throws IOException {
      try (Stream<Path> walk = Files.walk(top)) {
        for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
          Files.delete(p);
        }
      }
    }
  }

  static void testPathsUnderTheAppsFoldersAreAccepted() throws IOException {
    try (Phone p = new Phone()) {
      accepted(p);
    }
  }

  static void accepted(Phone p) {
    check(p.request.allowed("model", "edgeseg/run1/m.tflite")
        .equals(p.files.resolve("edgeseg/run1/m.tflite")), "relative to the files folder");
    String abs = p.files.resolve("edgeseg/run1/images").toString();
    check(p.request.allowed("images", abs).equals(p.files.resolve("edgeseg/run1/images")), abs);
    check(p.request.allowed("model", p.staging + "/new.pte").startsWith(p.staging),
        "adb staging folder, file not pushed yet");
  }

  static void testPathsOutsideAreRefusedWithWhereToPutThem() throws IOException {
    try (Phone p = new Phone()) {
      refused(p);
    }
  }

  static void refused(Phone p) {
    expectError(() -> p.request.allowed("model", p.secret.toString()), "model " + p.secret,
        "outside the folders bench mode reads", p.files.toString(), p.staging.toString(),
        "adb push");
    expectError(() -> p.request.allowed("model", "../../../../../../" + p.secret.getFileName()),
        "outside");
    expectError(() -> p.request.allowed("images", p.staging + "/../x"), "outside");
    expectError(() -> p.request.allowed("images", "/etc"), "outside");
    expectError(() -> p.request.allowed("model", ""), "model: an empty or invalid path");
  }

  static void testSymbolicLinksAreJudgedByWhereTheyPoint() throws IOException {
    try (Phone p = new Phone()) {
      links(p);
    }
  }

  static void links(Phone p) throws IOException {
    Path link = p.files.resolve("edgeseg/run1/escape.tflite");
    Files.createSymbolicLink(link, p.secret);
    expectError(() -> p.request.allowed("model", link.toString()), "outside");
    Path dirLink = p.files.resolve("up");
    Files.createSymbolicLink(dirLink, p.top);
    expectError(() -> p.request.allowed("model", "up/" + p.secret.getFileName()), "outside");
    // the allowed folder itself reached through a link (/sdcard → /storage/emulated/0)
    Path sdcard = p.top.resolve("sdcard");
    Files.createSymbolicLink(sdcard, p.top.resolve("storage/emulated/0"));
    String viaLink = sdcard + "/Android/data/app/files/edgeseg/run1/m.tflite";
    check(p.request.allowed("model", viaLink).equals(p.files.resolve("edgeseg/run1/m.tflite")),
        "a path through /sdcard is the same file");
  }

  static void testRunIdsArePlainNames() {
    check(BenchRequest.runId("edgeseg-0123abcd.9_x").equals("edgeseg-0123abcd.9_x"), "valid");
    check(BenchRequest.runId(null).equals("latest"), "default");
    String tooLong = new String(new char[65]).replace('\0', 'a');
    for (String bad : new String[] {"", "../x", "a/b", ".hidden", "-rf", "a b", "x\n", tooLong}) {
      expectError(() -> BenchRequest.runId(bad), "run_id", "plain name");
    }
  }
}
