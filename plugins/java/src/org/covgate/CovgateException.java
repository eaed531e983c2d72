package org.covgate;

/** A libcovgate call failed: {@link #code} is the covgate_status (negative), never patient data. */
public final class CovgateException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  public final int code;
  public final String status;

  CovgateException(int code, String status, String message) {
    super(message == null || message.isEmpty() ? status : status + ": " + message);
    this.code = code;
    this.status = status;
  }
}
