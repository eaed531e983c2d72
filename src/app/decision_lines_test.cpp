#include "decision_lines.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "covgate/model/decision_json.hpp"

using namespace covgate;

namespace {

model::decision decision_of(int n) {
  model::decision d;
  d.claim_id = "CLAIM-" + std::to_string(n);
  d.patient = "MEMBER" + std::to_string(n % 7);
  d.dos = model::date{2026, 4, static_cast<std::uint8_t>(1 + n % 28)};
  d.policy = "NCD223@2026-03-07";
  d.result = n % 3 == 0 ? model::outcome::release : model::outcome::hold_documentation;
  if (n % 3 != 0) {
    model::finding f;
    f.reason = model::reason::modifier_missing;
    f.line = static_cast<std::uint32_t>(1 + n % 4);
    f.detail = n % 5 == 0 ? "a \"quoted\" detail" : "";
    d.findings.push_back(f);
  }
  return d;
}

std::string expected_line(int n) {
  std::string line;
  model::append_json(line, decision_of(n), "1234567893", n % 2 ? "hold" : "release",
                     "claims.x12:" + std::to_string(n * 100));
  return line + '\n';
}

}  // namespace

TEST_SUITE("app.decision_lines") {
  TEST_CASE("lines written on their own thread come whole, in order, one write at a time") {
    for (const bool own_thread : {true, false}) {
      CAPTURE(own_thread);
      std::string written;
      std::atomic<int> writing{0};
      bool overlapped = false, on_caller = false, elsewhere = false;
      const auto caller = std::this_thread::get_id();
      {
        app::decision_lines lines(
            [&](std::string_view text) {
              if (writing.fetch_add(1) != 0) overlapped = true;
              (std::this_thread::get_id() == caller ? on_caller : elsewhere) = true;
              written += text;
              writing.fetch_sub(1);
            },
            own_thread);
        // Not a multiple of a batch: the last lines go with flush().
        constexpr int count = 3 * static_cast<int>(app::decision_lines::batch_lines) + 17;
        for (int n = 0; n < count; ++n) {
          auto d = decision_of(n);
          std::string source = "claims.x12:" + std::to_string(n * 100);
          lines.add(d, "1234567893", n % 2 ? "hold" : "release", source);
          // The caller's objects change at once: the line keeps what they were.
          d.claim_id = "CHANGED";
          source = "changed";
        }
        lines.flush();
        std::string expected;
        for (int n = 0; n < count; ++n) expected += expected_line(n);
        CHECK(written == expected);
      }
      CHECK_FALSE(overlapped);
      CHECK(on_caller == !own_thread);
      CHECK(elsewhere == own_thread);
    }
  }

  TEST_CASE("flush waits for what was handed over, and adding goes on after it") {
    std::string written;
    app::decision_lines lines([&](std::string_view text) { written += text; }, true);
    lines.add(decision_of(1), "1234567893", "hold", "claims.x12:100");
    lines.flush();
    CHECK(written == expected_line(1));
    lines.flush();  // nothing more: nothing written
    CHECK(written == expected_line(1));
    lines.add(decision_of(2), "1234567893", "release", "claims.x12:200");
    lines.flush();
    CHECK(written == expected_line(1) + expected_line(2));
  }

  TEST_CASE("a write that fails fails the caller: at a later add or at flush, never lost") {
    for (const bool own_thread : {true, false}) {
      CAPTURE(own_thread);
      int calls = 0;
      app::decision_lines lines(
          [&](std::string_view) {
            ++calls;
            throw std::runtime_error("cannot write decisions.ndjson");
          },
          own_thread);
      bool thrown = false;
      try {
        for (int n = 0; n < 4 * static_cast<int>(app::decision_lines::batch_lines); ++n) {
          lines.add(decision_of(n), "1234567893", "hold", "claims.x12:1");
        }
        lines.flush();
      } catch (const std::runtime_error& e) {
        thrown = true;
        CHECK(std::string(e.what()) == "cannot write decisions.ndjson");
      }
      CHECK(thrown);
      CHECK(calls == 1);  // nothing written after the first failure
      // On its own thread it stays failed; on the caller's the write threw at once, and there
      // is nothing pending to fail again.
      if (own_thread) CHECK_THROWS_AS(lines.flush(), std::runtime_error);
    }
  }

  TEST_CASE("ended without a flush, the writer stops: no hang, no write after its end") {
    std::atomic<int> calls{0};
    {
      app::decision_lines lines([&](std::string_view) { ++calls; }, true);
      for (int n = 0; n < static_cast<int>(app::decision_lines::batch_lines) + 3; ++n) {
        lines.add(decision_of(n), "1234567893", "hold", "claims.x12:1");
      }
    }
    const int at_end = calls.load();
    CHECK(at_end <= 1);  // the batch handed over may have been written; the rest is dropped
  }
}
