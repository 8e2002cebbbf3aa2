package dev.edgeseg.core;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Comparator;

/**
 * A minimal JUnit stand-in (no jar can be downloaded here): runs every {@code static void
 * test*()} method of the named classes, prints {@code ok NAME} or {@code FAIL NAME: why} per
 * test and exits 1 if any failed. pytest runs it and checks every line.
 */
public final class TestRunner {
  private TestRunner() {}

  public static void main(String[] args) throws ClassNotFoundException {
    int failed = 0;
    int passed = 0;
    for (String name : args) {
      Method[] methods = Class.forName(name).getDeclaredMethods();
      Arrays.sort(methods, Comparator.comparing(Method::getName));
      for (Method m : methods) {
        if (!m.getName().startsWith("test") || !Modifier.isStatic(m.getModifiers())) {
          continue;
        }
        String id = m.getDeclaringClass().getSimpleName() + "." + m.getName();
        try {
          m.setAccessible(true);
          m.invoke(null);
          System.out.println("ok " + id);
          passed++;
        } catch (InvocationTargetException ex) {
          Throwable cause = ex.getCause();
          System.out.println("FAIL " + id + ": " + cause);
          failed++;
        } catch (IllegalAccessException ex) {
          System.out.println("FAIL " + id + ": " + ex);
          failed++;
        }
      }
    }
    System.out.println("summary passed=" + passed + " failed=" + failed);
    System.exit(failed == 0 && passed > 0 ? 0 : 1);
  }

  static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }

  /** Run {@code body}, require a ContractException whose message contains every fragment. */
  static String expectError(Runnable body, String... fragments) {
    try {
      body.run();
    } catch (ContractException ex) {
      for (String f : fragments) {
        check(ex.getMessage().contains(f), "message lacks '" + f + "': " + ex.getMessage());
      }
      return ex.getMessage();
    }
    throw new AssertionError("no ContractException (expected one mentioning "
        + Arrays.toString(fragments) + ")");
  }
}
