package org.covgate;

/** How a gate is doing ({@link Gate#health}): for a dashboard or an alert. */
public final class Health {
  /**
   * "healthy"; "degraded" (pointed at a cluster: the connection is down or the delivery of
   * later answers is in trouble; the gate recovers by itself); "failed" (the store failed:
   * every message is refused until the gate is opened again).
   */
  public final String state;
  /** The state is kept in a SQLite store. */
  public final boolean durable;
  /** Pointed at a cluster. */
  public final boolean cluster;
  /** Pointed at a cluster: the connection is up right now. */
  public final boolean connected;
  /** Later answers not acknowledged ({@link Gate#ack}). */
  public final long laterWaiting;
  /** Troubles noted since the gate was opened. */
  public final long troubles;
  /** What the last trouble was (settings, subjects, sequences; never patient data), or "". */
  public final String lastTrouble;
  /** When the last trouble was noted (Unix ms), 0 for none. */
  public final long lastTroubleUnixMs;

  Health(String state, boolean durable, boolean cluster, boolean connected, long laterWaiting,
      long troubles, String lastTrouble, long lastTroubleUnixMs) {
    this.state = state;
    this.durable = durable;
    this.cluster = cluster;
    this.connected = connected;
    this.laterWaiting = laterWaiting;
    this.troubles = troubles;
    this.lastTrouble = lastTrouble;
    this.lastTroubleUnixMs = lastTroubleUnixMs;
  }

  @Override
  public String toString() {
    return "Health{" + state + (durable ? ", durable" : "") + (cluster ? ", cluster" : "")
        + (connected ? ", connected" : "") + ", laterWaiting=" + laterWaiting + ", troubles="
        + troubles + (lastTrouble.isEmpty() ? "" : ", last=" + lastTrouble) + "}";
  }
}
