#include "covgate/engine/x12_feed.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <stdexcept>

#include "covgate/model/claim_codec.hpp"
#include "support/samples.hpp"
#include "support/thread_per_work.hpp"

using namespace covgate;

namespace {

// Counts what it is handed; throws on the set numbered `fail_at` (1-based), once.
struct receiver final : engine::x12_input::handler {
  int fail_at = 0;
  int sets = 0;
  std::size_t claims = 0;
  int interchanges = 0;
  void accepted_set(std::span<model::claim> c, const x12::set_result&) override {
    if (++sets == fail_at) throw std::runtime_error("the state failed");
    claims += c.size();
  }
  void interchange_end(const x12::interchange_result&,
                       const engine::interchange_verdict&) override {
    ++interchanges;
  }
};

// Compares each claim's own_part with model::encode_own_part's bytes for it.
struct own_part_receiver final : engine::x12_input::handler {
  const engine::x12_feed* feed = nullptr;
  std::size_t claims = 0;
  std::size_t encoded_alike = 0;
  std::size_t not_encoded = 0;
  bool past_the_set_empty = true;
  void accepted_set(std::span<model::claim> c, const x12::set_result&) override {
    for (std::size_t i = 0; i < c.size(); ++i) {
      ++claims;
      std::string expected;
      model::encode_own_part(c[i], expected);
      const auto got = feed->own_part(i);
      if (got.empty()) {
        ++not_encoded;
      } else if (got == expected) {
        ++encoded_alike;
      }
    }
    past_the_set_empty = past_the_set_empty && feed->own_part(c.size()).empty();
  }
  void interchange_end(const x12::interchange_result&,
                       const engine::interchange_verdict&) override {}
};

}  // namespace

TEST_SUITE("engine.x12_feed") {
  TEST_CASE("regression: a receiver that throws does not leave the reader waiting for ever") {
    // The six sets of the sample day's claims read ahead. The receiver fails on the first: the
    // exception comes out of put() or finish(), the claims it held go back to the reader, and
    // finish() hands the other five over (before, the reader waited for those claims, and
    // finish() with it, for ever).
    const auto text = test::sample("days/mixed-day/2-claims.x12");
    test::thread_per_work pool;
    receiver got;
    got.fail_at = 1;
    auto finished = std::async(std::launch::async, [&] {
      engine::x12_feed feed(got, {}, {&pool, 1});
      bool thrown = false;
      for (std::size_t i = 0; i < text.size(); i += 4096) {
        try {
          feed.put(std::string_view(text).substr(i, 4096));
        } catch (const std::runtime_error&) {
          thrown = true;
        }
      }
      try {
        feed.finish();
      } catch (const std::runtime_error&) {
        thrown = true;
      }
      return thrown;
    });
    if (finished.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      FAIL_CHECK("the feed hangs after its receiver threw");
      std::abort();  // the hung thread cannot be joined
    }
    CHECK(finished.get());
    CHECK(got.sets == 6);
    CHECK(got.interchanges == 1);
    CHECK(got.claims > 0);
  }

  TEST_CASE("read on the caller's thread or ahead, a feed hands over the same sets in order") {
    const auto text = test::sample("days/mixed-day/2-claims.x12");
    const auto read = [&](bool ahead) {
      test::thread_per_work pool;
      receiver got;
      engine::x12_feed feed(got, {}, {ahead ? &pool : nullptr, 2});
      for (std::size_t i = 0; i < text.size(); i += 1000) {
        feed.put(std::string_view(text).substr(i, 1000));
      }
      feed.finish();
      CHECK(feed.interchanges() == 1);
      return std::tuple{got.sets, got.claims, got.interchanges, pool.threads.size()};
    };
    const auto [sets, claims, interchanges, lent] = read(false);
    CHECK(sets == 6);
    CHECK(lent == 0);
    const auto [sets_ahead, claims_ahead, interchanges_ahead, lent_ahead] = read(true);
    CHECK(sets_ahead == sets);
    CHECK(claims_ahead == claims);
    CHECK(interchanges_ahead == interchanges);
    CHECK(lent_ahead > 10);
  }

  TEST_CASE("read ahead with own_parts, each claim comes encoded as the memory state keeps it") {
    // The six sets of the sample day, in chunks that end inside segments: every claim's bytes
    // are its own (the set buffers are reused, set after set), and only read ahead with
    // own_parts asked for are there any.
    const auto text = test::sample("days/mixed-day/2-claims.x12");
    const auto read = [&](bool ahead, bool own_parts) {
      test::thread_per_work pool;
      own_part_receiver got;
      engine::x12_feed feed(got, {}, {ahead ? &pool : nullptr, 2, own_parts});
      got.feed = &feed;
      for (std::size_t i = 0; i < text.size(); i += 1000) {
        feed.put(std::string_view(text).substr(i, 1000));
      }
      feed.finish();
      CHECK(feed.own_part(0).empty());  // outside accepted_set
      return got;
    };
    const auto encoded = read(true, true);
    CHECK(encoded.claims > 6);
    CHECK(encoded.encoded_alike == encoded.claims);
    CHECK(encoded.past_the_set_empty);
    const auto not_asked = read(true, false);
    CHECK(not_asked.not_encoded == not_asked.claims);
    const auto on_the_callers_thread = read(false, true);
    CHECK(on_the_callers_thread.not_encoded == on_the_callers_thread.claims);
  }
}
