#include "covgate/hl7v2/mllp.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace covgate::hl7v2;
using namespace std::string_literals;

namespace {

struct decoded {
  std::vector<std::string> frames;
  mllp_error error = mllp_error::none;
};

decoded decode_whole(std::string_view bytes, mllp_options options = {}) {
  mllp_decoder d(options);
  decoded out;
  out.error = d.put(bytes, [&](std::string_view f) { out.frames.emplace_back(f); });
  return out;
}

decoded decode_bytewise(std::string_view bytes, mllp_options options = {}) {
  mllp_decoder d(options);
  decoded out;
  for (const char c : bytes) {
    out.error =
        d.put(std::string_view(&c, 1), [&](std::string_view f) { out.frames.emplace_back(f); });
    if (out.error != mllp_error::none) break;
  }
  return out;
}

const std::string msh = "MSH|^~\\&|A|B|C|D|202611271200||ADT^A01|1|P|2.5.1\r";

}  // namespace

TEST_SUITE("hl7v2.mllp") {
  TEST_CASE("one frame gives its payload") {
    const auto d = decode_whole(mllp_frame(msh));
    REQUIRE(d.frames.size() == 1);
    CHECK(d.frames[0] == msh);
    CHECK(d.error == mllp_error::none);
  }

  TEST_CASE("a frame fed one byte at a time gives the same frames as fed whole") {
    const auto stream = mllp_frame(msh) + "\r\n\0\0"s + mllp_frame("ISA*00~") + mllp_frame("{}");
    const auto whole = decode_whole(stream);
    const auto bytewise = decode_bytewise(stream);
    CHECK(whole.frames == std::vector<std::string>{msh, "ISA*00~", "{}"});
    CHECK(bytewise.frames == whole.frames);
  }

  TEST_CASE("pipelined frames in one read are all delivered, in order") {
    std::string stream;
    for (int i = 0; i < 50; ++i) stream += mllp_frame("message " + std::to_string(i));
    const auto d = decode_whole(stream);
    REQUIRE(d.frames.size() == 50);
    CHECK(d.frames.front() == "message 0");
    CHECK(d.frames.back() == "message 49");
  }

  TEST_CASE("bytes between frames are skipped and counted") {
    mllp_decoder d;
    std::vector<std::string> frames;
    auto keep = [&](std::string_view f) { frames.emplace_back(f); };
    CHECK(d.put("\r\n\0keep-alive"s, keep) == mllp_error::none);
    CHECK(d.put(mllp_frame("a") + "\x1C\r\n", keep) == mllp_error::none);
    CHECK(frames == std::vector<std::string>{"a"});
    CHECK(d.skipped_bytes() == 16);
  }

  TEST_CASE("a frame whose final CR never comes is still delivered by default") {
    const auto d = decode_whole(
        "\x0B"
        "payload\x1C");
    CHECK(d.frames == std::vector<std::string>{"payload"});
  }

  TEST_CASE("with require_final_cr, a frame waits for its CR and anything else is an error") {
    mllp_options strict;
    strict.require_final_cr = true;
    mllp_decoder d(strict);
    std::vector<std::string> frames;
    auto keep = [&](std::string_view f) { frames.emplace_back(f); };
    CHECK(d.put("\x0B"
                "a\x1C",
                keep) == mllp_error::none);
    CHECK(frames.empty());
    CHECK(d.put("\r", keep) == mllp_error::none);
    CHECK(frames == std::vector<std::string>{"a"});
    CHECK(d.put("\x0B"
                "b\x1C\n",
                keep) == mllp_error::missing_final_cr);
    CHECK(d.put(mllp_frame("c"), keep) == mllp_error::missing_final_cr);  // stays failed
    CHECK(frames.size() == 1);
  }

  TEST_CASE("a payload at the maximum passes; one byte more is frame_too_large") {
    mllp_options small;
    small.max_frame_bytes = 10;
    CHECK(decode_whole(mllp_frame(std::string(10, 'x')), small).frames.size() == 1);
    const auto over = decode_whole(mllp_frame(std::string(11, 'x')), small);
    CHECK(over.frames.empty());
    CHECK(over.error == mllp_error::frame_too_large);
    CHECK(decode_bytewise(mllp_frame(std::string(11, 'x')), small).error ==
          mllp_error::frame_too_large);
  }

  TEST_CASE("a new start block abandons an unfinished frame") {
    mllp_decoder d;
    std::vector<std::string> frames;
    CHECK(d.put("\x0B"
                "half" +
                    mllp_frame("whole"),
                [&](std::string_view f) { frames.emplace_back(f); }) == mllp_error::none);
    CHECK(frames == std::vector<std::string>{"whole"});
    CHECK(d.abandoned_frames() == 1);
  }

  TEST_CASE("inside_frame tells a stalled peer from an idle one") {
    mllp_decoder d;
    auto ignore = [](std::string_view) {};
    CHECK_FALSE(d.inside_frame());
    (void)d.put(
        "\x0B"
        "MSH|",
        ignore);
    CHECK(d.inside_frame());
    (void)d.put("\x1C\r", ignore);
    CHECK_FALSE(d.inside_frame());
  }

  TEST_CASE("every error has a description") {
    for (auto e : {mllp_error::none, mllp_error::frame_too_large, mllp_error::missing_final_cr}) {
      CHECK_FALSE(describe(e).empty());
    }
  }
}
