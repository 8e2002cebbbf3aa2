package dev.edgeseg.core;

/**
 * A model, sidecar, image or tensor that does not fit the model contract.
 *
 * <p>The message is one line that says what is wrong, in which file, and what to do; the app
 * shows it instead of crashing. Unchecked so Kotlin callers and runtime lambdas stay simple.
 */
public class ContractException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ContractException(String message) {
    super(message);
  }

  public ContractException(String message, Throwable cause) {
    super(message, cause);
  }
}
