// The FHIR JSON reader gives the same facts, issues and counts whichever parser reads the text:
// simdjson with RapidJSON behind it (what read() does) against RapidJSON alone, over every
// JSON message and NDJSON line of the samples and fixtures, the public corpus when $CORPUS is
// set, and texts at the corners where the two parsers differ.
#include "json_parsers.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "covgate/model/fact_json.hpp"
#include "support/samples.hpp"

namespace fs = std::filesystem;
using namespace covgate;
using namespace covgate::fhir;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

// Everything a caller can see of a result, as one text to compare.
std::string seen(const read_result& r) {
  std::string out = operation_outcome_json(r);
  out += "\nresources=" + std::to_string(r.resources) + " mapped=" + std::to_string(r.mapped) +
         " ignored=" + std::to_string(r.ignored) + " invalid=" + std::to_string(r.invalid) +
         " rejected=" + std::to_string(r.rejected) + "\n";
  for (const auto& f : r.facts) {
    model::append_json(out, f);
    out += '\n';
  }
  return out;
}

// Reads `text` both ways and checks they agree; returns what read() gave.
read_result same_either_way(std::string_view text, const std::string& where) {
  auto first = read_json(text, json_parser::simdjson_first, tables());
  const auto reference = read_json(text, json_parser::rapidjson_only, tables());
  INFO(where);
  CHECK(seen(first) == seen(reference));
  return first;
}

// Each JSON file under `dir` whole, and each line of each NDJSON file; the count of texts read.
std::size_t compare_tree(const fs::path& dir) {
  std::size_t texts = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext == ".json") {
      (void)same_either_way(test::file_bytes(entry.path()), entry.path().string());
      ++texts;
    } else if (ext == ".ndjson") {
      // Whole, as a replay reads it (one arena for every line), and line by line.
      const auto text = test::file_bytes(entry.path());
      CHECK(seen(read_ndjson(text, json_parser::simdjson_first, tables())) ==
            seen(read_ndjson(text, json_parser::rapidjson_only, tables())));
      std::istringstream lines(text);
      std::size_t number = 0;
      for (std::string line; std::getline(lines, line);) {
        ++number;
        if (line.empty()) continue;
        (void)same_either_way(line, entry.path().string() + ":" + std::to_string(number));
        ++texts;
      }
    }
  }
  return texts;
}

}  // namespace

TEST_CASE("fhir json: the samples and fixtures read the same with either parser") {
  const fs::path root(COVGATE_SOURCE_DIR);
  const auto texts = compare_tree(root / "samples") + compare_tree(root / "tests" / "fixtures");
  CHECK(texts > 40);
}

TEST_CASE("fhir json: the public corpus reads the same with either parser") {
  const char* corpus = std::getenv("CORPUS");
  if (corpus == nullptr || *corpus == '\0') {
    MESSAGE("SKIP: CORPUS is not set");
    return;
  }
  const auto dir = fs::path(corpus) / "fhir";
  if (!fs::is_directory(dir)) {
    MESSAGE("SKIP: no fhir folder in CORPUS");
    return;
  }
  CHECK(compare_tree(dir) > 100);
}

TEST_CASE("fhir json: where the parsers differ, the reader does not") {
  const std::string patient = R"({"resourceType":"Patient","id":"p1","identifier":[{"system":)"
                              R"("http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK73"}])";
  const std::string lab =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":)"
      R"("http://loinc.org","code":"1986-9"}]},"subject":{"reference":"Patient/p1"},)"
      R"("effectiveDateTime":"2026-01-16T07:45:00Z","valueQuantity":{"value":)";
  const std::vector<std::string> texts = {
      // Numbers: integers, decimals, exponents, the edges of 64 bits, and past them.
      lab + R"(0.4,"unit":"ng/mL","code":"ng/mL"}})",
      lab + R"(1,"code":"ng/mL"}})",
      lab + R"(-0,"code":"ng/mL"}})",
      lab + R"(1.0e0,"code":"ng/mL"}})",
      lab + R"(4e-1,"code":"ng/mL"}})",
      lab + R"(9223372036854775807,"code":"ng/mL"}})",
      lab + R"(18446744073709551615,"code":"ng/mL"}})",
      lab + R"(18446744073709551616,"code":"ng/mL"}})",  // simdjson refuses: RapidJSON reads it
      lab + R"(1e400,"code":"ng/mL"}})",                 // refused by both
      // Zero with an exponent: RapidJSON 1.1.0's full-precision mode read 0e-40 as 4.6e18
      // (and passed zero to clz, which UBSan stops at); its default mode reads 0.
      lab + R"(0e-40,"code":"ng/mL"}})",
      lab + R"(0.000e-30,"code":"ng/mL"}})",
      // Zero with an exponent past a double's: valid JSON that simdjson reads as 0 and RapidJSON
      // refuses ("number too big"), so a text that holds it is RapidJSON's to answer.
      lab + R"(0e400,"code":"ng/mL"}})",
      lab + R"(-0.0E+309,"code":"ng/mL"}})",
      patient + R"(,"extension":[{"url":"x","valueDecimal":0E+309}]})",
      lab + R"(0.0,"code":"ng/mL"}})",
      lab + R"(1e-400,"code":"ng/mL"}})",  // below a double's least
      lab + R"("0.4","code":"ng/mL"}})",   // a string where a decimal goes
      lab + R"([0.4],"code":"ng/mL"}})",   // a list where one value goes
      lab + R"(true,"code":"ng/mL"}})",
      lab + R"(null,"code":"ng/mL"}})",
      // Strings: escapes, a NUL escaped, surrogate pairs, a lone surrogate.
      patient + R"(,"gender":"fe\u006dale"})",
      patient + R"(,"gender":"f\u0000"})",
      patient + R"(,"name":[{"family":"\ud83d\ude00"}]})",
      patient + R"(,"name":[{"family":"\ud83d"}]})",
      patient + R"(,"name":[{"family":"\udc00x"}]})",
      // Bytes that are not UTF-8 (simdjson refuses, RapidJSON reads), and a raw NUL.
      patient + ",\"name\":[{\"family\":\"M\xFCller\"}]}",
      patient + ",\"name\":[{\"family\":\"\xC3\"}]}",
      patient + std::string(",\"gender\":\"a\0b\"}", 16),
      // Text after the value (RapidJSON stops when done), none, or a second value.
      patient + "} trailing",
      patient + "}{}",
      patient + "}   ",
      // Structure: repeated names (the first counts), empty lists, deep nesting, wrong roots.
      R"({"resourceType":"Patient","id":"a","id":"b","birthDate":"2000-01-01"})",
      patient + R"(,"birthDate":[]})",
      patient + R"(,"extension":)" + std::string(1500, '[') + std::string(1500, ']') + "}",
      "[]",
      "\"Patient\"",
      "{}",
      "",
      "{",
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" + lab +
          R"(0.4,"code":"ng/mL"}}},{"resource":)" + patient + "}}]}",
  };
  for (std::size_t i = 0; i < texts.size(); ++i) {
    (void)same_either_way(texts[i], "text " + std::to_string(i));
  }
  // The corners RapidJSON reads are still read, as before: a name in Latin-1, a big integer.
  CHECK_FALSE(
      same_either_way(patient + ",\"name\":[{\"family\":\"M\xFCller\"}]}", "latin-1").rejected);
  CHECK(same_either_way(lab + R"(18446744073709551616,"code":"ng/mL"}})", "big").facts.size() == 1);
}

TEST_CASE("fhir json: simdjson reads texts up to 4 MiB, RapidJSON larger ones") {
  // 137e+83 is one of the decimals the two parsers round differently (simdjson correctly, as
  // strtod does; RapidJSON's default mode one unit off), so the value read says which parser
  // read the text: an Observation padded with spaces to 4 MiB, and to one byte over.
  constexpr std::size_t simdjson_max_bytes = 4u << 20;
  const std::string literal = "137e+83";
  rapidjson::Document by_rapidjson;
  by_rapidjson.Parse(literal.c_str());
  const double correctly_rounded = std::strtod(literal.c_str(), nullptr);
  REQUIRE(by_rapidjson.GetDouble() != correctly_rounded);
  const std::string head =
      R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":)"
      R"("http://loinc.org","code":"1986-9"}]},"subject":{"reference":"Patient/p1"},)"
      R"("effectiveDateTime":"2026-01-16T07:45:00Z","valueQuantity":{"value":)" +
      literal + R"(,"code":"ng/mL"})";
  for (const std::size_t size : {simdjson_max_bytes, simdjson_max_bytes + 1}) {
    std::string text = head;
    text.append(size - head.size() - 1, ' ').append("}");
    REQUIRE(text.size() == size);
    const auto result = read(text, encoding::json, tables());
    REQUIRE(result.facts.size() == 1);
    const auto& lab = std::get<model::lab_result>(result.facts.front());
    CHECK(lab.original_value ==
          (size <= simdjson_max_bytes ? correctly_rounded : by_rapidjson.GetDouble()));
  }
}
