package org.covgate;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;

/** One answer: for the sender of a message ({@link Gate#submit}) or a later one ({@link Gate#poll}). */
public final class Answer {
  /** The answer's bytes: a 277 or 999/TA1, an OperationOutcome, HL7 ACK(s). */
  public final byte[] body;
  /** "application/edi-x12", "application/fhir+json", "x-application/hl7-v2+er7", or "". */
  public final String contentType;
  /** "accepted", "hold", "release", "rejected" or "closed". */
  public final String disposition;
  /** The decision events, one JSON object each (the lines of covgate replay --decisions). */
  public final List<String> decisions;
  /** What was refused or noted, one line each (positions and codes, no patient data). */
  public final List<String> findings;
  /** Each HL7 v2 ACK by itself (an MLLP sender frames each); else the whole body. */
  public final List<byte[]> parts;
  public final int flags;
  public final int claims;
  public final int facts;
  /** Later answers: what {@link Gate#ack} takes; 0 otherwise. */
  public final long sequence;
  /**
   * Later answers: the idempotency key "NPI_CLM01-sequence" (the billing provider's NPI, '_',
   * then the 277's REF*1K "CLM01-sequence"; "CLM01-sequence" alone for a claim without a
   * billing NPI); "" otherwise.
   */
  public final String key;
  /** Later answers: release, hold, reopened, void, cancel; "" otherwise. */
  public final String event;

  Answer(byte[] body, String contentType, String disposition, List<String> decisions,
      List<String> findings, List<byte[]> parts, int flags, int claims, int facts, long sequence,
      String key, String event) {
    this.body = body;
    this.contentType = contentType;
    this.disposition = disposition;
    this.decisions = Collections.unmodifiableList(decisions);
    this.findings = Collections.unmodifiableList(findings);
    this.parts = Collections.unmodifiableList(parts);
    this.flags = flags;
    this.claims = claims;
    this.facts = facts;
    this.sequence = sequence;
    this.key = key;
    this.event = event;
  }

  /** The body as text, byte for byte (ISO-8859-1), as Mirth's RAW data type holds it. */
  public String bodyText() {
    return new String(body, StandardCharsets.ISO_8859_1);
  }

  @Override
  public String toString() {
    return disposition + " " + contentType + " (" + body.length + " bytes"
        + (key.isEmpty() ? "" : ", " + event + " " + key) + ")";
  }
}
