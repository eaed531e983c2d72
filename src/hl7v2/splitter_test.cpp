#include "covgate/hl7v2/splitter.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace covgate::hl7v2;

namespace {

struct seen {
  std::vector<std::string> messages;
  std::vector<message_info> infos;
  std::vector<stream_notice> notices;
  bool operator==(const seen& o) const {
    if (messages != o.messages || notices.size() != o.notices.size()) return false;
    for (std::size_t i = 0; i < infos.size(); ++i) {
      const auto& a = infos[i];
      const auto& b = o.infos[i];
      if (a.offset != b.offset || a.line != b.line || a.index != b.index || a.batch != b.batch ||
          a.oversize != b.oversize) {
        return false;
      }
    }
    for (std::size_t i = 0; i < notices.size(); ++i) {
      const auto& a = notices[i];
      const auto& b = o.notices[i];
      if (a.code != b.code || a.line != b.line || a.offset != b.offset ||
          a.declared != b.declared || a.counted != b.counted) {
        return false;
      }
    }
    return true;
  }
};

// Feeds `stream` in chunks of `chunk` bytes (0: whole).
seen split(std::string_view stream, std::size_t chunk = 0, splitter_limits limits = {}) {
  seen out;
  message_splitter s(
      [&](std::string_view m, const message_info& info) {
        out.messages.emplace_back(m);
        out.infos.push_back(info);
      },
      [&](const stream_notice& n) { out.notices.push_back(n); }, limits);
  if (chunk == 0) {
    s.put(stream);
  } else {
    for (std::size_t at = 0; at < stream.size(); at += chunk) s.put(stream.substr(at, chunk));
  }
  s.finish();
  return out;
}

// Whole, one byte at a time, and in chunks of a few odd sizes: always the same.
seen split_every_way(std::string_view stream, splitter_limits limits = {}) {
  const auto whole = split(stream, 0, limits);
  for (const std::size_t chunk : {1, 2, 3, 7, 64}) {
    CAPTURE(chunk);
    CHECK(split(stream, chunk, limits) == whole);
  }
  return whole;
}

const std::string adt1 = "MSH|^~\\&|A|F|||20260312||ADT^A04|1|P|2.5.1\rPID|1||M1^^^H^MR\r";
const std::string adt2 = "MSH|^~\\&|A|F|||20260312||ADT^A04|2|P|2.5.1\rPID|1||M2^^^H^MR\r";

}  // namespace

TEST_SUITE("hl7v2.splitter") {
  TEST_CASE("splits concatenated messages, fed whole or one byte at a time") {
    const auto r = split_every_way(adt1 + adt2);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0] == adt1);
    CHECK(r.messages[1] == adt2);
    CHECK(r.infos[0].offset == 0);
    CHECK(r.infos[1].offset == adt1.size());
    CHECK(r.infos[0].line == 1);
    CHECK(r.infos[1].line == 3);
    CHECK(r.infos[1].index == 2);
    CHECK(r.notices.empty());
  }

  TEST_CASE("LF and CRLF files split too, and blank lines between messages are fine") {
    const std::string lf = "MSH|^~\\&|A|F\nPID|1\n\n\nMSH|^~\\&|A|F\nPID|2\n";
    const auto r = split_every_way(lf);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[1] == "MSH|^~\\&|A|F\nPID|2\n");
    CHECK(r.infos[1].line == 5);
    const std::string crlf = "MSH|^~\\&|A|F\r\nPID|1\r\n\r\nMSH|^~\\&|A|F\r\nPID|2\r\n";
    const auto c = split_every_way(crlf);
    REQUIRE(c.messages.size() == 2);
    CHECK(c.infos[1].line == 4);
    CHECK(c.notices.empty());
  }

  TEST_CASE("an LF inside a segment of a CR message is data, not a new message") {
    const std::string stream =
        "MSH|^~\\&|A|F\rNTE|1||see below\nMSH|not a header\rPID|1\rMSH|^~\\&|B|G\rPID|2\r";
    const auto r = split_every_way(stream);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].find("see below\nMSH|not a header\r") != std::string::npos);
  }

  TEST_CASE("MLLP framing bytes and a byte-order mark left in a file are skipped") {
    const std::string framed = "\xEF\xBB\xBF\x0B" + adt1 + "\x1C\r\x0B" + adt2 + "\x1C\r";
    const auto r = split_every_way(framed);
    REQUIRE(r.messages.size() == 2);
    CHECK(r.messages[0].rfind("MSH|", 0) == 0);
    CHECK(r.messages[1].rfind("MSH|", 0) == 0);
    CHECK(r.infos[0].offset == 4);
    CHECK(r.notices.empty());
  }

  TEST_CASE("text between messages is skipped and noted once per gap") {
    const std::string stream = "garbage line\rmore\r" + adt1 + "BTS|0\rnoise\r" + adt2;
    const auto r = split_every_way(stream);
    REQUIRE(r.messages.size() == 2);
    REQUIRE(r.notices.size() == 3);
    CHECK(r.notices[0].code == error::text_between_messages);
    CHECK(r.notices[0].line == 1);
    CHECK(r.notices[1].code == error::unexpected_trailer);
    CHECK(r.notices[2].code == error::text_between_messages);
    CHECK(r.notices[2].line == 6);
  }

  TEST_CASE("batches are followed and their counts checked") {
    const std::string good = "FHS|^~\\&|LAB\rBHS|^~\\&|LAB\r" + adt1 + adt2 +
                             "BTS|2\rBHS|^~\\&|LAB\r" + adt1 + "BTS|1\rFTS|2\r";
    const auto r = split_every_way(good);
    REQUIRE(r.messages.size() == 3);
    CHECK(r.infos[0].batch == 1);
    CHECK(r.infos[2].batch == 2);
    CHECK(r.notices.empty());
    CHECK(r.messages[1] == adt2);  // the trailer is not part of the message
  }

  TEST_CASE("count mismatches in BTS-1 and FTS-1 are noted with both counts") {
    const std::string bad = "FHS|^~\\&\rBHS|^~\\&\r" + adt1 + adt2 + "BTS|3\rFTS|4\r";
    const auto r = split_every_way(bad);
    REQUIRE(r.notices.size() == 2);
    CHECK(r.notices[0].code == error::batch_count_mismatch);
    CHECK(r.notices[0].declared == 3);
    CHECK(r.notices[0].counted == 2);
    CHECK(r.notices[1].code == error::file_count_mismatch);
    CHECK(r.notices[1].declared == 4);
    CHECK(r.notices[1].counted == 1);
  }

  TEST_CASE("an empty count, an empty batch and a count written 2.0 are accepted") {
    const auto r = split_every_way("BHS|^~\\&\rBTS|||\rBHS|^~\\&\rBTS|0\rBHS|^~\\&\r" + adt1 +
                                   adt2 + "BTS|2.0\r");
    CHECK(r.notices.empty());
    CHECK(r.messages.size() == 2);
  }

  TEST_CASE("headers without trailers are noted at the end") {
    const auto r = split_every_way("FHS|^~\\&\rBHS|^~\\&\r" + adt1);
    REQUIRE(r.messages.size() == 1);
    REQUIRE(r.notices.size() == 2);
    CHECK(r.notices[0].code == error::batch_trailer_missing);
    CHECK(r.notices[1].code == error::batch_trailer_missing);
    const auto twice = split_every_way("BHS|^~\\&\rBHS|^~\\&\rBTS|0\r");
    REQUIRE(twice.notices.size() == 1);
    CHECK(twice.notices[0].code == error::batch_trailer_missing);
    const auto lone = split_every_way("FTS|1\r");
    REQUIRE(lone.notices.size() == 1);
    CHECK(lone.notices[0].code == error::unexpected_trailer);
  }

  TEST_CASE("the last message needs no final terminator") {
    const auto r = split_every_way("MSH|^~\\&|A\rPID|1");
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0] == "MSH|^~\\&|A\rPID|1");
    const auto tiny = split_every_way("MSH|");
    REQUIRE(tiny.messages.size() == 1);
    CHECK(tiny.messages[0] == "MSH|");
  }

  TEST_CASE("a message at the size limit passes whole; past it, it is cut and flagged") {
    splitter_limits limits;
    limits.max_message_bytes = adt1.size();
    const auto at = split_every_way(adt1 + adt2, limits);
    REQUIRE(at.messages.size() == 2);
    CHECK_FALSE(at.infos[0].oversize);
    CHECK(at.messages[0] == adt1);
    limits.max_message_bytes = adt1.size() - 1;
    const auto past = split_every_way(adt1 + adt2, limits);
    REQUIRE(past.messages.size() == 2);
    CHECK(past.infos[0].oversize);
    CHECK(past.messages[0].size() == adt1.size() - 1);
    CHECK(past.messages[0].rfind("MSH|^~\\&|A|F", 0) == 0);
  }

  TEST_CASE("a batch segment is read up to its limit, the rest skipped") {
    splitter_limits limits;
    limits.max_batch_segment_bytes = 6;
    const auto r = split_every_way("BHS|^~\\&|" + std::string(100, 'x') + "\rBTS|9\r", limits);
    REQUIRE(r.notices.size() == 1);
    CHECK(r.notices[0].code == error::batch_count_mismatch);
    CHECK(r.notices[0].declared == 9);
  }

  TEST_CASE("a stream of many messages goes through in bounded memory") {
    std::string chunk;
    for (int i = 0; i < 100; ++i) chunk += adt1;
    std::uint64_t count = 0;
    std::size_t largest = 0;
    message_splitter s([&](std::string_view m, const message_info&) {
      ++count;
      largest = std::max(largest, m.size());
    });
    for (int i = 0; i < 2000; ++i) s.put(chunk);  // 200,000 messages, ~15 MB
    s.finish();
    CHECK(count == 200000);
    CHECK(largest == adt1.size());
    CHECK(s.messages() == 200000);
  }

  TEST_CASE("after finish() the next put() starts a new stream") {
    seen out;
    message_splitter s([&](std::string_view m, const message_info& info) {
      out.messages.emplace_back(m);
      out.infos.push_back(info);
    });
    s.put(adt1);
    s.finish();
    s.put(adt2);
    s.finish();
    REQUIRE(out.messages.size() == 2);
    CHECK(out.infos[1].offset == 0);
    CHECK(out.infos[1].line == 1);
  }
}
