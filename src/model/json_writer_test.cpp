#include "covgate/model/json_writer.hpp"

#include <doctest/doctest.h>

using covgate::model::json_writer;

namespace {

std::string written(std::string_view text) {
  std::string out;
  json_writer(out).value(text);
  return out;
}

}  // namespace

TEST_SUITE("model.json_writer") {
  TEST_CASE("a string without special characters is copied whole") {
    CHECK(written("E0784 KX") == "\"E0784 KX\"");
    CHECK(written("") == "\"\"");
  }

  TEST_CASE("quotes, backslashes and control characters are escaped wherever they fall") {
    CHECK(written("\"a\\b\"") == "\"\\\"a\\\\b\\\"\"");
    CHECK(written("line\nnext\r\ttab") == "\"line\\nnext\\r\\ttab\"");
    CHECK(written(std::string_view("\x01x\x1f", 3)) == "\"\\u0001x\\u001f\"");
    CHECK(written(std::string_view("\0", 1)) == "\"\\u0000\"");
  }

  TEST_CASE("a value made of parts is one escaped string") {
    std::string out;
    json_writer(out).value({"P3", ":", "300"}).value({"say \"hi\"", "", "\n"});
    CHECK(out == "\"P3:300\",\"say \\\"hi\\\"\\n\"");
  }

  TEST_CASE("UTF-8 passes through unchanged") {
    CHECK(written("Ünïcode µg/L") == "\"Ünïcode µg/L\"");
  }

  TEST_CASE("members and elements are separated by commas") {
    std::string out;
    json_writer w(out);
    w.begin_object().key("a").value(std::int64_t{1}).key("b").begin_array();
    w.value("x").value(true).null().end_array().end_object();
    CHECK(out == "{\"a\":1,\"b\":[\"x\",true,null]}");
  }
}
