#include "covgate/engine/x12_feed.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <stdexcept>

#include "covgate/model/claim_codec.hpp"
#include "support/samples.hpp"
#include "support/thread_per_work.hpp"
#include "support/x12_fixtures.hpp"

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

// Compares each claim's encoding with model::encode_own_part's and model::encode_set_part's
// bytes for it, and notes where each set part's bytes are.
struct encoded_receiver final : engine::x12_input::handler {
  const engine::x12_feed* feed = nullptr;
  std::size_t claims = 0;
  std::size_t encoded_alike = 0;
  std::size_t not_encoded = 0;
  bool past_the_set_empty = true;
  std::vector<const char*> set_parts_at;  // each claim's, in order
  void accepted_set(std::span<model::claim> c, const x12::set_result&) override {
    for (std::size_t i = 0; i < c.size(); ++i) {
      ++claims;
      std::string own_part;
      std::string set_part;
      model::encode_own_part(c[i], own_part);
      model::encode_set_part(c[i], set_part);
      const auto got = feed->encoded(i);
      set_parts_at.push_back(got.set_part.data());
      if (got.own_part.empty() && got.set_part.empty()) {
        ++not_encoded;
      } else if (got.own_part == own_part && got.set_part == set_part) {
        ++encoded_alike;
      }
    }
    const auto past = feed->encoded(c.size());
    past_the_set_empty = past_the_set_empty && past.own_part.empty() && past.set_part.empty();
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

  TEST_CASE(
      "read ahead with encode_claims, each claim comes encoded as the memory state keeps it") {
    // The six sets of the sample day, in chunks that end inside segments: every claim's bytes
    // are its own (the set buffers are reused, set after set), and only read ahead with
    // encode_claims asked for are there any.
    const auto text = test::sample("days/mixed-day/2-claims.x12");
    const auto read = [&](bool ahead, bool encode_claims) {
      test::thread_per_work pool;
      encoded_receiver got;
      engine::x12_feed feed(got, {}, {ahead ? &pool : nullptr, 2, encode_claims});
      got.feed = &feed;
      for (std::size_t i = 0; i < text.size(); i += 1000) {
        feed.put(std::string_view(text).substr(i, 1000));
      }
      feed.finish();
      const auto outside = feed.encoded(0);  // outside accepted_set
      CHECK(outside.own_part.empty());
      CHECK(outside.set_part.empty());
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

  TEST_CASE(
      "a set part is encoded once for the claims of one billing provider, again at the next") {
    // One set: two claims under the first billing provider (2000A), a third under another of
    // the same NPI at another address (a part is reused only when every field is the same).
    auto body = test::professional_body();
    const auto first_claim =
        std::find(body.begin(), body.end(), "CLM*PUMP001*5000***12:B:1*Y*A*Y*Y");
    REQUIRE(first_claim != body.end());
    std::vector<std::string> claim(first_claim, body.end());
    auto second = claim;
    second.front() = "CLM*PUMP002*5000***12:B:1*Y*A*Y*Y";
    body.insert(body.end(), second.begin(), second.end());
    const std::vector<std::string> other_provider = {
        "HL*3**20*1",
        "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984",
        "N3*200 HIGH ST",
        "N4*COLUMBUS*OH*43004",
        "REF*EI*311234567",
        "HL*4*3*22*0",
        "SBR*P*18*******MB",
        "NM1*IL*1*DOE*JANE****MI*1EG4TE5MK73",
        "NM1*PR*2*MEDICARE*****PI*16013",
    };
    body.insert(body.end(), other_provider.begin(), other_provider.end());
    auto third = claim;
    third.front() = "CLM*PUMP003*5000***12:B:1*Y*A*Y*Y";
    body.insert(body.end(), third.begin(), third.end());

    test::thread_per_work pool;
    encoded_receiver got;
    engine::x12_feed feed(got, {}, {&pool, 2, true});
    got.feed = &feed;
    feed.put(test::interchange(body));
    feed.finish();
    REQUIRE(got.claims == 3);
    CHECK(got.encoded_alike == 3);
    REQUIRE(got.set_parts_at.size() == 3);
    CHECK(got.set_parts_at[0] == got.set_parts_at[1]);  // the same bytes, encoded once
    CHECK(got.set_parts_at[2] != got.set_parts_at[1]);  // another provider's, its own
  }

  TEST_CASE("read ahead, put_buffer takes the caller's buffer and hands back one read before") {
    // The sample day in 1,000-byte buffers given away: the same sets as put() copies, and the
    // buffers come back (a buffer the caller gets is one a reader finished with: it is written
    // over at once, as the next read would).
    const auto text = test::sample("days/mixed-day/2-claims.x12");
    test::thread_per_work pool;
    receiver given;
    engine::x12_feed feed(given, {}, {&pool, 2});
    std::string buffer;
    std::size_t taken = 0;
    std::size_t reused = 0;
    for (std::size_t i = 0; i < text.size(); i += 1000) {
      buffer.assign(text, i, 1000);
      const auto* const mine = buffer.data();
      feed.put_buffer(buffer);
      taken += buffer.data() != mine ? 1 : 0;
      reused += buffer.capacity() >= 1000 ? 1 : 0;
      buffer.assign(buffer.capacity(), '#');
    }
    feed.finish();
    CHECK(given.sets == 6);
    CHECK(given.interchanges == 1);
    receiver copied;
    engine::x12_feed by_copy(copied, {}, {&pool, 2});
    for (std::size_t i = 0; i < text.size(); i += 1000) {
      by_copy.put(std::string_view(text).substr(i, 1000));
    }
    by_copy.finish();
    CHECK(given.claims == copied.claims);
    const auto chunks = (text.size() + 999) / 1000;
    CHECK(taken == chunks);       // every buffer taken, none copied
    CHECK(reused + 3 >= chunks);  // all but the first few come back as a chunk's buffer
  }
}
