import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.covgate.Answer;
import org.covgate.CovgateException;
import org.covgate.Gate;
import org.covgate.Health;

/** The Java binding over libcovgate: answers, later answers, a durable restart, errors, threads. */
public final class GateTest {
  static int passed = 0;
  static int failed = 0;

  static void check(boolean ok, String what) {
    if (ok) {
      passed++;
    } else {
      failed++;
      System.out.println("FAIL: " + what);
    }
  }

  static List<Path> files(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.sorted().collect(Collectors.toList());
    }
  }

  public static void main(String[] args) throws Exception {
    Path root = Paths.get(args[0]);
    Path late = root.resolve("samples/inputs/scenarios/02-csii-release-after-late-lab");
    List<Path> f = files(late);
    byte[] record = Files.readAllBytes(f.get(0));
    byte[] claim = Files.readAllBytes(f.get(1));
    byte[] labs = Files.readAllBytes(f.get(2));

    check(Gate.version().matches("\\d+\\.\\d+\\.\\d+"), "version");

    try (Gate gate = new Gate()) {
      Answer r = gate.submit(record, "application/fhir+json");
      check(r.disposition.equals("accepted"), "a record is accepted: " + r);
      Answer held = gate.submit(claim, null);
      check(held.disposition.equals("hold"), "the claim is held: " + held);
      check(held.contentType.equals("application/edi-x12"), "277 content type");
      check(held.bodyText().startsWith("ISA*"), "the 277 starts with ISA");
      check(held.decisions.size() == 1 && held.decisions.get(0).contains("\"event\":\"hold\""),
          "one hold decision line");
      check(gate.poll().isEmpty(), "nothing later yet");
      check(gate.waitFd() >= 0, "a wait fd");
      Answer released = gate.submit(labs, null, "java-test", 0);
      check(released.decisions.get(0).contains("\"source\":\"java-test:3:0\""),
          "the decision names the source: " + released.decisions);
      Health waiting = gate.health();
      check(waiting.state.equals("healthy") && !waiting.durable && !waiting.cluster
              && waiting.troubles == 0 && waiting.lastTrouble.isEmpty(), "healthy: " + waiting);
      check(waiting.laterWaiting == 1, "one later answer waits: " + waiting);
      List<Answer> later = gate.poll();
      check(later.size() == 1, "one later answer");
      Answer l = later.get(0);
      check(l.key.equals("1999999984_CSII-LATE-2") && l.event.equals("release")
              && l.disposition.equals("release"), "the later release: " + l);
      check(l.bodyText().contains("REF*1K*CSII-LATE-2~"), "REF*1K in the later 277");
      check(gate.poll().isEmpty(), "handed out once");
      gate.redeliver();
      check(gate.poll().size() == 1, "redelivered while unacknowledged");
      check(gate.ack(l.sequence), "acknowledged");
      check(!gate.ack(l.sequence), "acknowledged twice is harmless");
      check(gate.health().laterWaiting == 0, "nothing waits once acknowledged");
      gate.redeliver();
      check(gate.poll().isEmpty(), "gone once acknowledged");

      Answer junk = gate.submit("not a claim".getBytes(), null);
      check(junk.disposition.equals("rejected") && junk.body.length == 0
              && !junk.findings.isEmpty(), "junk is rejected with findings: " + junk);
    }

    // A durable store: unacknowledged later answers come back after a restart.
    Path dir = Files.createTempDirectory("covgate-java");
    String config = "{\"store\": {\"directory\": \"state\"}}";
    long sequence;
    try (Gate gate = new Gate(config, dir.toString())) {
      for (Path p : f) gate.submit(Files.readAllBytes(p), null);
      List<Answer> later = gate.poll();
      check(later.size() == 1, "durable: one later answer");
      sequence = later.get(0).sequence;
    }
    try (Gate gate = new Gate(config, dir.toString())) {
      List<Answer> again = gate.poll();
      check(again.size() == 1 && again.get(0).sequence == sequence, "durable: it came back");
      gate.ack(sequence);
    }
    try (Gate gate = new Gate(config, dir.toString())) {
      check(gate.poll().isEmpty(), "durable: gone once acknowledged");
    }
    check(Files.exists(dir.resolve("state/covgate.db")), "durable: the store file");

    // Errors are exceptions with the status; bad input is an answer.
    try {
      new Gate("{\"mllp\": {\"port\": \"twenty\"}}", null).close();
      check(false, "a bad configuration throws");
    } catch (CovgateException e) {
      check(e.code == -2 && e.getMessage().contains("/mllp/port"), "config error: " + e);
    }
    Gate closed = new Gate();
    closed.close();
    closed.close();
    try {
      closed.submit(claim, null);
      check(false, "a closed gate throws");
    } catch (CovgateException e) {
      check(true, "closed");
    }

    // Threads at once: each its own claim, then the labs release them all.
    try (Gate gate = new Gate()) {
      gate.submit(record, null);
      AtomicInteger holds = new AtomicInteger();
      List<Thread> pool = new ArrayList<>();
      String text = new String(claim, "ISO-8859-1");
      for (int t = 0; t < 8; t++) {
        final int n = t;
        Thread th = new Thread(() -> {
          String own = text.replace("000000502", String.format("%09d", 2000 + n))
              .replace("CSII-LATE", "J-" + n);
          if (gate.submitText(own, null, "thread").disposition.equals("hold")) {
            holds.incrementAndGet();
          }
        });
        pool.add(th);
        th.start();
      }
      for (Thread th : pool) th.join();
      check(holds.get() == 8, "8 threads, 8 holds: " + holds.get());
      gate.submit(labs, null);
      List<Answer> later = gate.poll();
      check(later.size() == 8, "8 later releases: " + later.size());
      for (Answer a : later) gate.ack(a.sequence);
    }

    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
