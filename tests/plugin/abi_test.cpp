// libcovgate through its C ABI only (include/covgate/covgate.h, linked against the shared
// library): answers, later answers with at-least-once delivery, the wait fd, a durable store
// across a restart, errors, and several host threads at once (run under TSan and ASan too).
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "covgate/covgate.h"
#include "support/failing_sync_vfs.hpp"
#include "support/temp_dir.hpp"

namespace {

const std::filesystem::path scenarios =
    std::filesystem::path(COVGATE_SOURCE_DIR) / "samples/inputs/scenarios";

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::filesystem::path> files_of(const std::string& scenario) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(scenarios / scenario)) {
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

covgate_error error_struct() {
  covgate_error e;
  std::memset(&e, 0x5A, sizeof e);
  e.size = sizeof e;
  return e;
}

using covgate::test::temp_dir;

// One open handle, closed at the end of the scope.
struct handle {
  explicit handle(const std::string& config = "") {
    auto err = error_struct();
    const auto rc =
        covgate_open(config.empty() ? nullptr : config.data(), config.size(), nullptr, &h, &err);
    INFO(err.message);
    REQUIRE(rc == COVGATE_OK);
    REQUIRE(h != nullptr);
  }
  ~handle() {
    auto err = error_struct();
    CHECK(covgate_close(h, &err) == COVGATE_OK);
  }
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  covgate_handle* h = nullptr;
};

struct answer_ptr {
  covgate_answer* a = nullptr;
  ~answer_ptr() { covgate_answer_free(a); }
  covgate_answer* operator->() const { return a; }
  [[nodiscard]] std::string body() const {
    return {reinterpret_cast<const char*>(a->body), a->body_length};
  }
  [[nodiscard]] std::string decisions() const { return {a->decisions, a->decisions_length}; }
  [[nodiscard]] std::string findings() const { return {a->findings, a->findings_length}; }
};

answer_ptr submit(covgate_handle* h, const std::string& bytes, const char* type = nullptr) {
  answer_ptr out;
  auto err = error_struct();
  const auto rc = covgate_submit(h, bytes.data(), bytes.size(), type, &out.a, &err);
  INFO(err.message);
  REQUIRE(rc == COVGATE_OK);
  REQUIRE(out.a != nullptr);
  CHECK(out->size == sizeof(covgate_answer));
  return out;
}

answer_ptr submit_file(covgate_handle* h, const std::filesystem::path& p) {
  return submit(h, read(p));
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_SUITE("plugin.abi") {
  TEST_CASE("reports its ABI version, its version and a name for every status") {
    CHECK(covgate_abi_version() == COVGATE_ABI_VERSION);
    CHECK(std::string(covgate_version()).find('.') != std::string::npos);
    for (const int32_t code :
         {COVGATE_OK, COVGATE_EMPTY, COVGATE_E_ARGUMENT, COVGATE_E_CONFIG, COVGATE_E_STORE,
          COVGATE_E_NOMEM, COVGATE_E_TOO_LARGE, COVGATE_E_UNAVAILABLE, COVGATE_E_INTERNAL}) {
      CHECK(std::string(covgate_status_name(code)).rfind("COVGATE_", 0) == 0);
    }
    CHECK(std::string(covgate_status_name(12345)) == "COVGATE_UNKNOWN_STATUS");
  }

  TEST_CASE("a held claim is answered with its 277 and its decision line") {
    handle g;
    const auto files = files_of("02-csii-release-after-late-lab");
    const auto record = submit_file(g.h, files[0]);
    CHECK(record->disposition == COVGATE_ACCEPTED);
    CHECK(std::string(record->content_type) == "application/fhir+json");
    CHECK(record->facts > 0);
    CHECK(record->decisions_length == 0);
    const auto claim = submit_file(g.h, files[1]);
    CHECK(claim->disposition == COVGATE_HOLD);
    CHECK(claim->flags == 0);
    CHECK(claim->claims == 1);
    CHECK(std::string(claim->content_type) == "application/edi-x12");
    CHECK(claim.body().rfind("ISA*", 0) == 0);
    CHECK(claim.body().find("STC*P3:300") != std::string::npos);
    CHECK(claim->body[claim->body_length] == '\0');
    REQUIRE(claim->part_count == 1);
    CHECK(claim->parts[0].offset == 0);
    CHECK(claim->parts[0].length == claim->body_length);
    CHECK(lines(claim.decisions()) == 1);
    CHECK(claim.decisions().find(R"("event":"hold","claim_id":"CSII-LATE")") != std::string::npos);
    CHECK(claim.decisions().find(R"("source":"covgate:2:578")") != std::string::npos);
    CHECK(claim->sequence == 0);
    CHECK(std::string(claim->key).empty());
  }

  TEST_CASE("a later release waits for poll, signals the wait fd and goes once acknowledged") {
    handle g;
    const auto files = files_of("02-csii-release-after-late-lab");
    const int fd = covgate_wait_fd(g.h);
    REQUIRE(fd >= 0);
    submit_file(g.h, files[0]);
    submit_file(g.h, files[1]);
    CHECK_FALSE(readable(fd));
    auto err = error_struct();
    answer_ptr none;
    CHECK(covgate_poll(g.h, &none.a, &err) == COVGATE_EMPTY);
    CHECK(none.a == nullptr);

    const auto labs = submit_file(g.h, files[2]);
    CHECK(labs->disposition == COVGATE_ACCEPTED);
    CHECK(labs.decisions().find(R"("event":"release","claim_id":"CSII-LATE")") !=
          std::string::npos);
    CHECK(readable(fd));

    answer_ptr later;
    REQUIRE(covgate_poll(g.h, &later.a, &err) == COVGATE_OK);
    CHECK(later->disposition == COVGATE_RELEASE);
    CHECK((later->flags & COVGATE_LATER) != 0);
    CHECK(std::string(later->key) == "1999999984_CSII-LATE-2");  // billing NPI, then REF*1K
    CHECK(std::string(later->event) == "release");
    CHECK(later->sequence > 0);
    CHECK(later.body().find("REF*1K*CSII-LATE-2~") != std::string::npos);
    CHECK(lines(later.decisions()) == 1);
    CHECK(later.decisions().find(R"("outcome":"release")") != std::string::npos);
    CHECK_FALSE(readable(fd));  // everything was handed out

    answer_ptr again;
    CHECK(covgate_poll(g.h, &again.a, &err) == COVGATE_EMPTY);  // handed out once per session
    CHECK(covgate_redeliver(g.h, &err) == COVGATE_OK);
    CHECK(readable(fd));
    answer_ptr redelivered;
    REQUIRE(covgate_poll(g.h, &redelivered.a, &err) == COVGATE_OK);
    CHECK(redelivered->sequence == later->sequence);
    CHECK(redelivered.body() == later.body());

    CHECK(covgate_ack(g.h, later->sequence, &err) == COVGATE_OK);
    CHECK(covgate_ack(g.h, later->sequence, &err) == COVGATE_EMPTY);  // twice is harmless
    CHECK(covgate_redeliver(g.h, &err) == COVGATE_OK);
    answer_ptr gone;
    CHECK(covgate_poll(g.h, &gone.a, &err) == COVGATE_EMPTY);
    CHECK_FALSE(readable(fd));
  }

  TEST_CASE("a later answer made after every earlier one was acknowledged is handed out too") {
    // Regression: the store numbers a row one past the highest it holds, so once every later
    // answer was acknowledged (and deleted) the next one took number 1 again, below the last
    // one handed out, and poll() never handed it out.
    temp_dir dir;
    const std::string durable = R"({"store": {"directory": ")" + dir.path.string() + R"("}})";
    for (const std::string& config : {std::string(), durable}) {
      INFO(std::string(config.empty() ? "in memory" : "durable"));
      handle g(config);
      auto err = error_struct();
      const auto files = files_of("02-csii-release-after-late-lab");
      for (const char* patient : {"2AA2AA2AA02", "5DD5DD5DD55"}) {
        for (const auto& f : files) {
          auto text = read(f);
          for (auto at = text.find("2AA2AA2AA02"); at != std::string::npos;
               at = text.find("2AA2AA2AA02", at + 11)) {
            text.replace(at, 11, patient);
          }
          for (auto at = text.find("CSII-LATE"); at != std::string::npos;
               at = text.find("CSII-LATE", at + 1)) {
            text.replace(at, 9, std::string("CSII-L") + patient[0] + patient[1] + patient[2]);
          }
          if (patient[0] != '2') {  // an interchange of its own (ISA13, IEA02)
            for (auto at = text.find("000000502"); at != std::string::npos;
                 at = text.find("000000502", at + 9)) {
              text.replace(at, 9, "000000503");
            }
          }
          const auto answer = submit(g.h, text);
          INFO(answer.body());
          CHECK(answer->disposition == (f == files[1] ? COVGATE_HOLD : COVGATE_ACCEPTED));
        }
        answer_ptr later;
        REQUIRE(covgate_poll(g.h, &later.a, &err) == COVGATE_OK);
        CHECK(std::string(later->key) ==
              std::string("1999999984_CSII-L") + patient[0] + patient[1] + patient[2] + "-2");
        CHECK(covgate_ack(g.h, later->sequence, &err) == COVGATE_OK);
        answer_ptr none;
        CHECK(covgate_poll(g.h, &none.a, &err) == COVGATE_EMPTY);
      }
    }
  }

  TEST_CASE("with a durable store, unacknowledged later answers come back after a restart") {
    temp_dir dir;
    const std::string config = R"({"store": {"directory": ")" + dir.path.string() + R"("}})";
    const auto files = files_of("02-csii-release-after-late-lab");
    std::uint64_t sequence = 0;
    std::string body;
    {
      handle g(config);
      for (const auto& f : files) submit_file(g.h, f);
      answer_ptr later;
      auto err = error_struct();
      REQUIRE(covgate_poll(g.h, &later.a, &err) == COVGATE_OK);
      sequence = later->sequence;
      body = later.body();
      // not acknowledged: the host died before forwarding it
    }
    CHECK(std::filesystem::exists(dir.path / "covgate.db"));
    {
      handle g(config);
      CHECK(readable(covgate_wait_fd(g.h)));
      answer_ptr again;
      auto err = error_struct();
      REQUIRE(covgate_poll(g.h, &again.a, &err) == COVGATE_OK);
      CHECK(again->sequence == sequence);
      CHECK(again.body() == body);
      CHECK(std::string(again->key) == "1999999984_CSII-LATE-2");
      CHECK(again->disposition == COVGATE_RELEASE);
      CHECK(covgate_ack(g.h, sequence, &err) == COVGATE_OK);
      // The interchange is remembered: sent again, it gets the 277 it got the first time and
      // is not processed again (accepted, flagged as repeated, no decision line).
      const auto repeat = submit_file(g.h, files[1]);
      CHECK(repeat->disposition == COVGATE_ACCEPTED);
      CHECK(repeat->flags == COVGATE_REPEATED);
      CHECK(repeat.body().find("STC*P3:300") != std::string::npos);
      CHECK(repeat->decisions_length == 0);
    }
    {
      handle g(config);
      CHECK_FALSE(readable(covgate_wait_fd(g.h)));
      answer_ptr none;
      auto err = error_struct();
      CHECK(covgate_poll(g.h, &none.a, &err) == COVGATE_EMPTY);
    }
  }

  TEST_CASE("health: a state of its own is healthy, counts what waits for covgate_ack") {
    const auto health_of = [](covgate_handle* h, std::uint32_t size = sizeof(covgate_health)) {
      covgate_health out;
      std::memset(&out, 0x5A, sizeof out);
      out.size = size;
      auto err = error_struct();
      const auto rc = covgate_get_health(h, &out, &err);
      INFO(err.message);
      REQUIRE(rc == COVGATE_OK);
      return out;
    };
    temp_dir dir;
    for (const bool durable : {false, true}) {
      CAPTURE(durable);
      handle g(durable ? R"({"store": {"directory": ")" + dir.path.string() + R"("}})" : "");
      auto h = health_of(g.h);
      CHECK(h.size == sizeof(covgate_health));
      CHECK(h.state == COVGATE_HEALTHY);
      CHECK(h.flags == (durable ? COVGATE_HEALTH_DURABLE : 0u));
      CHECK(h.reserved == 0);
      CHECK(h.later_waiting == 0);
      CHECK(h.troubles == 0);
      CHECK(h.last_trouble_unix_ms == 0);
      CHECK(std::string(h.last_trouble).empty());
      // Scenario 02: the late labs release the held claim, a later answer for the host.
      for (const auto& f : files_of("02-csii-release-after-late-lab")) submit_file(g.h, f);
      CHECK(health_of(g.h).later_waiting == 1);
      answer_ptr later;
      auto err = error_struct();
      REQUIRE(covgate_poll(g.h, &later.a, &err) == COVGATE_OK);
      CHECK(health_of(g.h).later_waiting == 1);  // handed out, not yet acknowledged
      CHECK(covgate_ack(g.h, later->sequence, &err) == COVGATE_OK);
      CHECK(health_of(g.h).later_waiting == 0);
      CHECK(health_of(g.h).troubles == 0);  // refused input is no trouble of the handle
      submit(g.h, "not a message of any kind");
      CHECK(health_of(g.h).troubles == 0);
    }
    // An older host's smaller struct: filled up to its size, last_trouble left alone.
    handle g;
    const auto without_text = offsetof(covgate_health, last_trouble);
    const auto h = health_of(g.h, static_cast<std::uint32_t>(without_text));
    CHECK(h.size == without_text);
    CHECK(h.state == COVGATE_HEALTHY);
    CHECK(static_cast<unsigned char>(h.last_trouble[0]) == 0x5A);
    // A newer host's larger struct: filled up to this library's, its size said back.
    struct newer {
      covgate_health known;
      char more[16];
    } big;
    std::memset(&big, 0x5A, sizeof big);
    big.known.size = sizeof big;
    auto err_big = error_struct();
    REQUIRE(covgate_get_health(g.h, &big.known, &err_big) == COVGATE_OK);
    CHECK(big.known.size == sizeof(covgate_health));
    CHECK(std::string(big.known.last_trouble).empty());
    CHECK(static_cast<unsigned char>(big.more[0]) == 0x5A);
    // Too small for the fields, or NULLs: refused.
    covgate_health small{};
    small.size = static_cast<std::uint32_t>(offsetof(covgate_health, last_trouble_unix_ms));
    auto err = error_struct();
    CHECK(covgate_get_health(g.h, &small, &err) == COVGATE_E_ARGUMENT);
    CHECK(std::string(err.message).find("covgate_get_health") == 0);
    CHECK(covgate_get_health(nullptr, &small, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_get_health(g.h, nullptr, &err) == COVGATE_E_ARGUMENT);
  }

  TEST_CASE("health: a store that fails leaves the handle failed until it is reopened") {
    // The store is made to fail by the file size limit (writes past it fail with EFBIG), set
    // in a child process: the limit is the whole process's. The child checks with the C ABI
    // alone and says by its exit code which step went wrong.
    temp_dir dir;
    const auto config = R"({"store": {"directory": ")" + dir.path.string() + R"("}})";
    const auto files = files_of("01-csii-released");
    const auto record = read(files[0]);
    const auto claim = read(files[1]);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      std::signal(SIGXFSZ, SIG_IGN);
      covgate_handle* h = nullptr;
      auto err = error_struct();
      if (covgate_open(config.data(), config.size(), nullptr, &h, &err) != COVGATE_OK) _exit(10);
      covgate_answer* a = nullptr;
      if (covgate_submit(h, record.data(), record.size(), nullptr, &a, &err) != COVGATE_OK) {
        _exit(11);
      }
      covgate_answer_free(a);
      rlimit limit{};
      ::getrlimit(RLIMIT_FSIZE, &limit);
      const auto lifted = limit;
      limit.rlim_cur = 4096;  // below the store's files: every write to them fails
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(12);
      a = nullptr;
      if (covgate_submit(h, claim.data(), claim.size(), nullptr, &a, &err) != COVGATE_E_STORE) {
        _exit(13);
      }
      if (a != nullptr) _exit(14);
      covgate_health health{};
      health.size = sizeof health;
      if (covgate_get_health(h, &health, &err) != COVGATE_OK) _exit(15);
      if (health.state != COVGATE_FAILED) _exit(16);
      if (health.troubles != 1) _exit(17);
      if (std::string(health.last_trouble).find("the store failed") != 0) _exit(18);
      // Refused from now on, the limit lifted or not: the engine may hold what the store lost.
      ::setrlimit(RLIMIT_FSIZE, &lifted);
      if (covgate_submit(h, claim.data(), claim.size(), nullptr, &a, &err) != COVGATE_E_STORE ||
          std::string(err.message).find("open the gate again") == std::string::npos) {
        _exit(19);
      }
      if (covgate_get_health(h, &health, &err) != COVGATE_OK || health.state != COVGATE_FAILED) {
        _exit(20);
      }
      covgate_close(h, &err);
      _exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, "the child stopped at step " << WEXITSTATUS(status));
    // Reopened: healthy, with the record it kept before the failure; the claim it refused is
    // decided when sent again, released by that record.
    handle g(config);
    covgate_health health{};
    health.size = sizeof health;
    auto err = error_struct();
    REQUIRE(covgate_get_health(g.h, &health, &err) == COVGATE_OK);
    CHECK(health.state == COVGATE_HEALTHY);
    const auto again = submit(g.h, claim);
    CHECK(again->disposition == COVGATE_RELEASE);
  }

  TEST_CASE(
      "health: a checkpoint that could not sync leaves the handle failed, the message answered") {
    // A checkpoint follows a message once a second of message time has passed. Its sync
    // failing (a VFS that fails the database file's syncs) means pages may be lost, and no
    // checkpoint may run again: refused from then on, but the message already stored is answered.
    temp_dir dir;
    const auto config = R"({"store": {"directory": ")" + dir.path.string() + R"("}})";
    const auto files = files_of("01-csii-released");
    const auto record = read(files[0]);
    const auto claim = read(files[1]);
    const auto message_at = [](const std::string& bytes, std::int64_t unix_ms) {
      covgate_message m{};
      m.size = sizeof m;
      m.data = reinterpret_cast<const std::uint8_t*>(bytes.data());
      m.length = bytes.size();
      m.unix_ms = unix_ms;
      return m;
    };
    std::string answered;
    {
      covgate::test::failing_sync_vfs vfs;
      handle g(config);
      // After the open, whose time the second's interval is counted from.
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      auto err = error_struct();
      const auto first = message_at(record, now_ms);
      answer_ptr a;
      REQUIRE(covgate_submit_message(g.h, &first, &a.a, &err) == COVGATE_OK);
      covgate::test::failing_sync_vfs::fail_from_sync =
          covgate::test::failing_sync_vfs::database_syncs + 1;
      const auto second = message_at(claim, now_ms + 2000);
      answer_ptr b;
      REQUIRE(covgate_submit_message(g.h, &second, &b.a, &err) == COVGATE_OK);
      CHECK(b->disposition == COVGATE_RELEASE);
      answered = b.body();
      covgate_health health{};
      health.size = sizeof health;
      REQUIRE(covgate_get_health(g.h, &health, &err) == COVGATE_OK);
      CHECK(health.state == COVGATE_FAILED);
      CHECK(
          std::string(health.last_trouble).find("the store failed: a checkpoint could not sync") ==
          0);
      covgate::test::failing_sync_vfs::fail_from_sync = std::numeric_limits<int>::max();
      answer_ptr c;
      CHECK(covgate_submit_message(g.h, &second, &c.a, &err) == COVGATE_E_STORE);
    }  // closed: no checkpoint runs, the WAL keeps both messages
    handle g(config);
    const auto again = submit(g.h, claim);  // kept: answered as the first time
    CHECK((again->flags & COVGATE_REPEATED) != 0);
    CHECK(again.body() == answered);
  }

  TEST_CASE("a message with its source and time names them in its answer and decisions") {
    handle g;
    const auto files = files_of("01-csii-released");
    submit_file(g.h, files[0]);
    const auto claim = read(files[1]);
    covgate_message m{};
    m.size = sizeof m;
    m.data = reinterpret_cast<const std::uint8_t*>(claim.data());
    m.length = claim.size();
    m.source = "mirth:in";
    m.unix_ms = 1'775'044'800'000;  // 2026-04-01 12:00 UTC
    // The source names the handle's second message, the claim at byte 578 of it.
    answer_ptr a;
    auto err = error_struct();
    REQUIRE(covgate_submit_message(g.h, &m, &a.a, &err) == COVGATE_OK);
    CHECK(a->disposition == COVGATE_RELEASE);
    CHECK(a.decisions().find(R"("source":"mirth:in:2:578")") != std::string::npos);
    CHECK(a.body().find("*260401*1200*") != std::string::npos);  // ISA09/ISA10
  }

  TEST_CASE("refused input is an answer: a bad X12 count, invalid FHIR, bytes of no kind") {
    handle g;
    const auto files = files_of("44-input-rejected");
    const auto bad_count = submit_file(g.h, files[1]);
    CHECK(bad_count->disposition == COVGATE_REJECTED);
    CHECK(bad_count.body().find("999") != std::string::npos);
    CHECK(bad_count->findings_length > 0);
    const auto invalid = submit_file(g.h, files[3]);
    CHECK(invalid->disposition == COVGATE_REJECTED);
    CHECK(std::string(invalid->content_type) == "application/fhir+json");
    CHECK(invalid.body().find("OperationOutcome") != std::string::npos);
    const auto notes = submit_file(g.h, files[4]);
    CHECK(notes->disposition == COVGATE_REJECTED);
    CHECK(notes->flags == COVGATE_UNRECOGNIZED);
    CHECK(notes->body_length == 0);
    CHECK(std::string(notes->content_type).empty());
    CHECK(notes.findings().find("skipped") != std::string::npos);
    const auto empty = submit(g.h, "");
    CHECK(empty->disposition == COVGATE_REJECTED);
    std::string binary(300, '\0');
    for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
    CHECK(submit(g.h, binary)->disposition == COVGATE_REJECTED);
  }

  TEST_CASE("a content-type hint refuses a message of another kind, unprocessed") {
    handle g;
    const auto claim = read(files_of("01-csii-released")[1]);
    const auto refused = submit(g.h, claim, "x-application/hl7-v2+er7");
    CHECK(refused->disposition == COVGATE_REJECTED);
    CHECK(refused->flags == COVGATE_UNRECOGNIZED);
    CHECK(refused.findings().find("names hl7v2 but the message is x12") != std::string::npos);
    CHECK(refused->claims == 0);
    const auto taken = submit(g.h, claim, "Application/EDI-X12; charset=utf-8");
    CHECK(taken->claims == 1);
    const auto sniffed = submit(g.h, claim, "text/plain");  // not a kind: sniffed
    CHECK(sniffed->claims == 1);
  }

  TEST_CASE("an HL7 v2 message gets its ACK, one part per ACK") {
    handle g(R"({"hl7v2": {"processing_ids": ["P", "T"]}})");
    const auto folder = std::filesystem::path(COVGATE_SOURCE_DIR) /
                        "samples/inputs/scenarios-hl7v2/02-csii-release-after-late-lab";
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(folder)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const auto ack = submit_file(g.h, files[0]);
    CHECK(std::string(ack->content_type) == "x-application/hl7-v2+er7");
    CHECK(ack.body().rfind("MSH|", 0) == 0);
    CHECK(ack.body().find("MSA|AA|") != std::string::npos);
    CHECK(ack->part_count >= 1);
    CHECK(ack->disposition == COVGATE_ACCEPTED);
  }

  TEST_CASE("errors: a bad configuration names its setting, NULLs are refused, sizes honoured") {
    covgate_handle* h = reinterpret_cast<covgate_handle*>(0x1);
    auto err = error_struct();
    const std::string unknown = R"({"x12": {"max_elements": 3}})";
    CHECK(covgate_open(unknown.data(), unknown.size(), nullptr, &h, &err) == COVGATE_E_CONFIG);
    CHECK(h == nullptr);
    CHECK(err.code == COVGATE_E_CONFIG);
    CHECK(std::string(err.message).find("/x12/max_elements") != std::string::npos);
    const std::string typo = R"({"stor": {}})";
    CHECK(covgate_open(typo.data(), typo.size(), nullptr, &h, &err) == COVGATE_E_CONFIG);
    CHECK(std::string(err.message).find("/stor: unknown setting") != std::string::npos);
    const std::string broken = "{";
    CHECK(covgate_open(broken.data(), broken.size(), nullptr, &h, &err) == COVGATE_E_CONFIG);
    CHECK(std::string(err.message).find("not valid JSON") != std::string::npos);
    CHECK(covgate_open(nullptr, 5, nullptr, &h, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_open(nullptr, 0, nullptr, nullptr, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_open(nullptr, 0, nullptr, nullptr, nullptr) == COVGATE_E_ARGUMENT);  // no err

    handle g;
    answer_ptr a;
    CHECK(covgate_submit(nullptr, "x", 1, nullptr, &a.a, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_submit(g.h, nullptr, 1, nullptr, &a.a, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_submit(g.h, "x", 1, nullptr, nullptr, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_poll(nullptr, &a.a, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_ack(nullptr, 1, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_redeliver(nullptr, &err) == COVGATE_E_ARGUMENT);
    CHECK(covgate_wait_fd(nullptr) == -1);
    CHECK(covgate_submit_message(g.h, nullptr, &a.a, &err) == COVGATE_E_ARGUMENT);
    covgate_message small{};
    small.size = 4;
    CHECK(covgate_submit_message(g.h, &small, &a.a, &err) == COVGATE_E_ARGUMENT);
    CHECK(a.a == nullptr);

    // An error struct from an older, smaller header: only what fits is written.
    struct {
      covgate_error e;
      char guard[8];
    } old{};
    old.e.size = 8;  // size and code only
    std::memset(old.e.message, 'Q', sizeof old.e.message);
    CHECK(covgate_poll(nullptr, &a.a, &old.e) == COVGATE_E_ARGUMENT);
    CHECK(old.e.code == COVGATE_E_ARGUMENT);
    CHECK(old.e.message[0] == 'Q');
    covgate_answer_free(nullptr);
    CHECK(covgate_close(nullptr, nullptr) == COVGATE_OK);
  }

  TEST_CASE("pointed at a cluster: a front with a store and its secret, or a clear error") {
    temp_dir dir;
    covgate_handle* h = nullptr;
    auto err = error_struct();
    const auto open = [&](const std::string& cluster, bool with_store) {
      const std::string config =
          R"({"cluster": )" + cluster +
          (with_store ? R"(, "store": {"directory": ")" + dir.path.string() + R"("}})" : "}");
      return covgate_open(config.data(), config.size(), nullptr, &h, &err);
    };
    // Nothing listens on port 1 of loopback: the connection is refused at once.
    const std::string front = R"({"role": "front", "urls": ["nats://127.0.0.1:1"],
        "worker_id": "host1", "key_secret_env": "COVGATE_ABI_TEST_SECRET"})";
    const std::string worker = R"({"role": "worker", "urls": ["nats://127.0.0.1:1"],
        "worker_id": "w1", "key_secret_env": "COVGATE_ABI_TEST_SECRET"})";
    ::unsetenv("COVGATE_ABI_TEST_SECRET");
    CHECK(open(worker, true) == COVGATE_E_CONFIG);
    CHECK(std::string(err.message).find("/cluster/role") != std::string::npos);
    CHECK(open(front, false) == COVGATE_E_CONFIG);
    CHECK(std::string(err.message).find("/store/directory") != std::string::npos);
    CHECK(open(front, true) == COVGATE_E_CONFIG);  // the secret is said before connecting
    CHECK(std::string(err.message).find("COVGATE_ABI_TEST_SECRET") != std::string::npos);
    ::setenv("COVGATE_ABI_TEST_SECRET", "a secret of the test", 1);
    CHECK(open(front, true) == COVGATE_E_UNAVAILABLE);
    CHECK(std::string(err.message).find("cluster:") == 0);
    CHECK(h == nullptr);
    ::unsetenv("COVGATE_ABI_TEST_SECRET");
  }

  TEST_CASE("several host threads submit, poll and acknowledge at once") {
    handle g;
    // Each thread sends claims of its own (own CLM01 and ISA13) for one patient: all are held
    // for a missing lab; then every thread sends the labs at once, which release each claim
    // exactly once, as later answers that a poller thread drains and acknowledges meanwhile.
    const auto files = files_of("02-csii-release-after-late-lab");
    const auto claim = read(files[1]);
    const auto labs = read(files[2]);
    auto own_claim = [&](int n) {
      auto out = claim;
      char isa13[16];
      std::snprintf(isa13, sizeof isa13, "%09d", 100000 + n);
      const auto ids = std::to_string(n);
      for (auto at = out.find("000000502"); at != std::string::npos; at = out.find("000000502")) {
        out.replace(at, 9, isa13);
      }
      for (auto at = out.find("CSII-LATE"); at != std::string::npos; at = out.find("CSII-LATE")) {
        out.replace(at, 9, "CL-" + ids);
      }
      return out;
    };
    submit_file(g.h, files[0]);
    constexpr int threads = 4;
    constexpr int rounds = 12;
    std::atomic<int> failures{0};
    std::atomic<int> held{0};
    std::atomic<bool> done{false};
    std::atomic<int> acked{0};
    std::vector<std::string> keys;
    auto send = [&](const std::string& bytes) {
      covgate_answer* a = nullptr;
      covgate_error err{};
      err.size = sizeof err;
      int32_t disposition = -1;
      if (covgate_submit(g.h, bytes.data(), bytes.size(), nullptr, &a, &err) != COVGATE_OK ||
          a == nullptr) {
        ++failures;
      } else {
        disposition = a->disposition;
      }
      covgate_answer_free(a);
      return disposition;
    };
    std::thread poller([&] {
      for (;;) {
        const bool finished = done.load();
        covgate_answer* a = nullptr;
        covgate_error err{};
        err.size = sizeof err;
        const auto rc = covgate_poll(g.h, &a, &err);
        if (rc == COVGATE_OK) {
          keys.emplace_back(a->key);
          if (a->disposition != COVGATE_RELEASE) ++failures;
          if (covgate_ack(g.h, a->sequence, &err) == COVGATE_OK) ++acked;
          covgate_answer_free(a);
          continue;
        }
        if (rc != COVGATE_EMPTY) ++failures;
        if (finished) break;
        pollfd p{covgate_wait_fd(g.h), POLLIN, 0};
        ::poll(&p, 1, 5);
      }
    });
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int r = 0; r < rounds; ++r) {
          if (send(own_claim(t * rounds + r)) == COVGATE_HOLD) ++held;
        }
      });
    }
    for (auto& t : pool) t.join();
    pool.clear();
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        if (send(labs) != COVGATE_ACCEPTED) ++failures;
      });
    }
    for (auto& t : pool) t.join();
    done = true;
    poller.join();
    CHECK(failures == 0);
    CHECK(held == threads * rounds);
    CHECK(acked == threads * rounds);
    std::sort(keys.begin(), keys.end());
    CHECK(std::unique(keys.begin(), keys.end()) == keys.end());
    covgate_answer* left = nullptr;
    covgate_error err{};
    err.size = sizeof err;
    CHECK(covgate_poll(g.h, &left, &err) == COVGATE_EMPTY);
    CHECK_FALSE(readable(covgate_wait_fd(g.h)));
  }
}
