package org.covgate;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One open covgate gate in this JVM, over libcovgate (JNA). Thread-safe: every method but
 * {@link #close} may be called from any thread at once (Mirth's processing threads, Camel
 * routes); the library serializes its engine.
 *
 * <p>The library is found through the system property {@code covgate.library} or the
 * environment variable {@code COVGATE_LIBRARY} (a path), else by JNA's search
 * ({@code jna.library.path}, then the system) for {@code libcovgate.so}.
 */
public final class Gate implements AutoCloseable {
  public static final int ABI_VERSION = 1;
  private static final int EMPTY = 1;
  private static final String[] DISPOSITIONS = {"accepted", "hold", "release", "rejected", "closed"};

  /** The C functions of covgate.h (pointers for handles and answers). */
  interface Lib extends Library {
    int covgate_abi_version();

    String covgate_version();

    String covgate_status_name(int code);

    int covgate_open(byte[] config, long length, String baseDir, PointerByReference out, Error err);

    int covgate_submit(Pointer gate, byte[] data, long length, String contentType,
        PointerByReference out, Error err);

    int covgate_submit_message(Pointer gate, Message message, PointerByReference out, Error err);

    int covgate_poll(Pointer gate, PointerByReference out, Error err);

    int covgate_ack(Pointer gate, long sequence, Error err);

    int covgate_redeliver(Pointer gate, Error err);

    int covgate_wait_fd(Pointer gate);

    int covgate_get_health(Pointer gate, HealthStruct out, Error err);

    void covgate_answer_free(Pointer answer);

    int covgate_close(Pointer gate, Error err);
  }

  /** covgate_error. */
  @Structure.FieldOrder({"size", "code", "message"})
  public static final class Error extends Structure {
    public int size;
    public int code;
    public byte[] message = new byte[256];

    public Error() {
      size = size();
    }

    String text() {
      int n = 0;
      while (n < message.length && message[n] != 0) n++;
      return new String(message, 0, n, StandardCharsets.UTF_8);
    }
  }

  /** covgate_message. */
  @Structure.FieldOrder({"size", "data", "length", "content_type", "source", "unix_ms"})
  public static final class Message extends Structure {
    public int size;
    public Pointer data;
    public long length;
    public String content_type;
    public String source;
    public long unix_ms;

    public Message() {
      size = size();
    }
  }

  /** covgate_answer, read from the library's memory. */
  @Structure.FieldOrder({"size", "disposition", "flags", "part_count", "body", "body_length",
      "content_type", "decisions", "decisions_length", "findings", "findings_length", "parts",
      "sequence", "key", "event", "claims", "facts"})
  public static final class AnswerStruct extends Structure {
    public int size;
    public int disposition;
    public int flags;
    public int part_count;
    public Pointer body;
    public long body_length;
    public String content_type;
    public Pointer decisions;
    public long decisions_length;
    public Pointer findings;
    public long findings_length;
    public Pointer parts;
    public long sequence;
    public String key;
    public String event;
    public int claims;
    public int facts;

    public AnswerStruct(Pointer p) {
      super(p);
      read();
    }
  }

  /** covgate_health, filled by the library. */
  @Structure.FieldOrder({"size", "state", "flags", "reserved", "later_waiting", "troubles",
      "last_trouble_unix_ms", "last_trouble"})
  public static final class HealthStruct extends Structure {
    public int size;
    public int state;
    public int flags;
    public int reserved;
    public long later_waiting;
    public long troubles;
    public long last_trouble_unix_ms;
    public byte[] last_trouble = new byte[256];

    public HealthStruct() {
      size = size();
    }
  }

  private static final String[] HEALTH_STATES = {"healthy", "degraded", "failed"};
  private static final int HEALTH_DURABLE = 0x1;
  private static final int HEALTH_CLUSTER = 0x2;
  private static final int HEALTH_CONNECTED = 0x4;

  private static volatile Lib lib;

  static Lib lib() {
    Lib l = lib;
    if (l != null) return l;
    synchronized (Gate.class) {
      if (lib != null) return lib;
      String path = System.getProperty("covgate.library", System.getenv("COVGATE_LIBRARY"));
      Map<String, Object> options = new HashMap<>();
      options.put(Library.OPTION_STRING_ENCODING, "UTF-8");
      l = Native.load(path != null && !path.isEmpty() ? path : "covgate", Lib.class, options);
      if (l.covgate_abi_version() != ABI_VERSION) {
        throw new CovgateException(-1, "COVGATE_E_ARGUMENT",
            "libcovgate has ABI " + l.covgate_abi_version() + ", this binding " + ABI_VERSION);
      }
      lib = l;
      return l;
    }
  }

  private volatile Pointer handle;

  /** An in-memory gate with every default (the built-in policy and tables). */
  public Gate() {
    this(null, null);
  }

  /**
   * Opens a gate from the text of covgate.json ({@code null}: every default, state in memory);
   * {@code baseDir} resolves its relative paths ({@code null}: the working directory).
   */
  public Gate(String configJson, String baseDir) {
    Error err = new Error();
    PointerByReference out = new PointerByReference();
    byte[] config = configJson == null ? null : configJson.getBytes(StandardCharsets.UTF_8);
    int rc = lib().covgate_open(config, config == null ? 0 : config.length, baseDir, out, err);
    check(rc, err);
    handle = out.getValue();
  }

  private Pointer live() {
    Pointer h = handle;
    if (h == null) throw new CovgateException(-1, "COVGATE_E_ARGUMENT", "the gate is closed");
    return h;
  }

  private static void check(int rc, Error err) {
    if (rc < 0) throw new CovgateException(rc, lib().covgate_status_name(rc), err.text());
  }

  /** Submits one whole message; {@code contentType} is an optional hint. */
  public Answer submit(byte[] data, String contentType) {
    Error err = new Error();
    PointerByReference out = new PointerByReference();
    int rc = lib().covgate_submit(live(), data, data.length, contentType, out, err);
    check(rc, err);
    return take(out.getValue());
  }

  /** Submits one message with a source name (in decision lines) and its receipt time (0: now). */
  public Answer submit(byte[] data, String contentType, String source, long unixMs) {
    Message m = new Message();
    Memory bytes = new Memory(Math.max(1, data.length));
    bytes.write(0, data, 0, data.length);
    m.data = bytes;
    m.length = data.length;
    m.content_type = contentType;
    m.source = source;
    m.unix_ms = unixMs;
    Error err = new Error();
    PointerByReference out = new PointerByReference();
    int rc = lib().covgate_submit_message(live(), m, out, err);
    check(rc, err);
    return take(out.getValue());
  }

  /** A message given as text (Mirth's RAW data), byte for byte (ISO-8859-1). */
  public Answer submitText(String text, String contentType, String source) {
    return submit(text.getBytes(StandardCharsets.ISO_8859_1), contentType, source, 0);
  }

  /** The next later answer not handed out yet, or null. It waits until {@link #ack}. */
  public Answer pollOne() {
    Error err = new Error();
    PointerByReference out = new PointerByReference();
    int rc = lib().covgate_poll(live(), out, err);
    check(rc, err);
    return rc == EMPTY ? null : take(out.getValue());
  }

  /** Every later answer waiting (not acknowledged: call {@link #ack} once forwarded). */
  public List<Answer> poll() {
    List<Answer> out = new ArrayList<>();
    for (Answer a = pollOne(); a != null; a = pollOne()) out.add(a);
    return out;
  }

  /** Says later answer {@code sequence} was forwarded; false when nothing waited under it. */
  public boolean ack(long sequence) {
    Error err = new Error();
    int rc = lib().covgate_ack(live(), sequence, err);
    check(rc, err);
    return rc != EMPTY;
  }

  /** Every unacknowledged later answer comes out of poll again. */
  public void redeliver() {
    Error err = new Error();
    check(lib().covgate_redeliver(live(), err), err);
  }

  /** The wait descriptor (readable while poll has something), or -1. */
  public int waitFd() {
    return lib().covgate_wait_fd(live());
  }

  /** How the gate is doing; never waits for a message in progress (call it from a monitor). */
  public Health health() {
    Error err = new Error();
    HealthStruct h = new HealthStruct();
    check(lib().covgate_get_health(live(), h, err), err);
    int n = 0;
    while (n < h.last_trouble.length && h.last_trouble[n] != 0) n++;
    String state = h.state >= 0 && h.state < HEALTH_STATES.length
        ? HEALTH_STATES[h.state] : Integer.toString(h.state);
    return new Health(state, (h.flags & HEALTH_DURABLE) != 0, (h.flags & HEALTH_CLUSTER) != 0,
        (h.flags & HEALTH_CONNECTED) != 0, h.later_waiting, h.troubles,
        new String(h.last_trouble, 0, n, StandardCharsets.UTF_8), h.last_trouble_unix_ms);
  }

  /** Flushes and closes (idempotent). Must not race with other calls. */
  @Override
  public void close() {
    Pointer h = handle;
    if (h == null) return;
    handle = null;
    Error err = new Error();
    check(lib().covgate_close(h, err), err);
  }

  public static String version() {
    return lib().covgate_version();
  }

  private static List<String> lines(Pointer p, long length) {
    if (length == 0) return Collections.emptyList();
    String text = new String(p.getByteArray(0, (int) length), StandardCharsets.UTF_8);
    List<String> out = new ArrayList<>(Arrays.asList(text.split("\n")));
    out.removeIf(String::isEmpty);
    return out;
  }

  private static Answer take(Pointer p) {
    try {
      AnswerStruct a = new AnswerStruct(p);
      byte[] body = a.body_length == 0 ? new byte[0] : a.body.getByteArray(0, (int) a.body_length);
      List<byte[]> parts = new ArrayList<>();
      for (int i = 0; i < a.part_count; i++) {
        long offset = a.parts.getLong(16L * i);
        long length = a.parts.getLong(16L * i + 8);
        parts.add(Arrays.copyOfRange(body, (int) offset, (int) (offset + length)));
      }
      String disposition = a.disposition >= 0 && a.disposition < DISPOSITIONS.length
          ? DISPOSITIONS[a.disposition] : Integer.toString(a.disposition);
      return new Answer(body, a.content_type == null ? "" : a.content_type, disposition,
          lines(a.decisions, a.decisions_length), lines(a.findings, a.findings_length), parts,
          a.flags, a.claims, a.facts, a.sequence, a.key == null ? "" : a.key,
          a.event == null ? "" : a.event);
    } finally {
      lib().covgate_answer_free(p);
    }
  }
}
