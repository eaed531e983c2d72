#include "covgate/model/fact_codec.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>

#include <doctest/doctest.h>

#include "binary_archive.hpp"

using namespace covgate;

namespace {

model::moment at(std::int16_t year, std::uint8_t month, std::uint8_t day, std::int64_t minutes) {
  return {{year, month, day}, minutes, true};
}

// One fact of every kind, every field set to something other than its default.
std::vector<model::fact> every_kind() {
  std::vector<model::fact> facts;
  model::patient p{
      "Patient/1", "1EG4TE5MK73", {"http://mbi|1EG4TE5MK73", "urn:mrn|42"}, {1950, 2, 28}, 'F'};
  facts.emplace_back(p);
  facts.emplace_back(model::practitioner{
      "Practitioner/9", "1497758544", {"MD"}, model::provider_type::nurse_practitioner});
  facts.emplace_back(model::practitioner_role{
      "PractitionerRole/3", "Practitioner/9", {"207RE0101X"}, model::provider_type::physician});
  model::lab_result lab;
  lab.resource_id = "Observation/7#component[1]";
  lab.patient = "Patient/1";
  lab.patient_key = "1EG4TE5MK73";
  lab.kind = model::lab_kind::c_peptide;
  lab.loinc = "1986-9";
  lab.has_value = true;
  lab.value = 0.31;
  lab.unit = "ng/mL";
  lab.original_value = 0.103;
  lab.original_unit = "nmol/L";
  lab.unit_known = true;
  lab.low = 0.8;
  lab.high = std::nullopt;
  lab.interpretation = {"L", "A"};
  lab.effective = at(2026, 3, 9, 29540000);
  lab.fasting = model::fasting_state::fasting;
  lab.status = "corrected";
  lab.last_updated = "2026-03-10T08:00:00Z";
  lab.origin = model::provenance::computed;
  facts.emplace_back(lab);
  model::encounter visit{"Encounter/5",
                         "Patient/1",
                         "1EG4TE5MK73",
                         "finished",
                         "VR",
                         at(2026, 3, 1, 29530000),
                         at(2026, 3, 1, 29530030),
                         {{"Practitioner/9", model::provider_type::nurse_practitioner, {"ATND"}}},
                         {"Location/2"},
                         "2026-03-01T10:00:00Z"};
  facts.emplace_back(visit);
  facts.emplace_back(model::evidence{"Observation/8", "Patient/1", "1EG4TE5MK73", "smbg-per-day",
                                     "quantity", true, 4, "four", at(2026, 2, 1, 29500000),
                                     "2026-02-01T00:00:00Z"});
  facts.emplace_back(model::condition{"Condition/4", "Patient/1", "1EG4TE5MK73",
                                      "http://hl7.org/fhir/sid/icd-10-cm", "E1065", "active",
                                      at(2025, 12, 1, 29400000), "2025-12-01"});
  facts.emplace_back(model::retraction{"Observation/6", "Patient/1", "1EG4TE5MK73"});
  return facts;
}

}  // namespace

TEST_SUITE("model.fact_codec") {
  TEST_CASE("facts of every kind decode to equal facts, in order") {
    const auto original = every_kind();
    std::string bytes;
    model::encode(original, bytes);
    const auto decoded = model::decode_facts(bytes);
    REQUIRE(decoded);
    CHECK(*decoded == original);
    CHECK(bytes.size() < 1000);  // compact: raw strings, varint lengths
  }

  TEST_CASE("encode_stripped writes what encode writes of the facts stripped") {
    for (auto f : every_kind()) {
      CAPTURE(f.index());
      const std::vector<model::fact> original = {f};
      // The fact index's stripping, by hand: the id without its first bytes, the shared
      // fields empty (each kind has the ones it has).
      std::visit(
          [](auto& v) {
            v.resource_id.erase(0, std::min<std::size_t>(5, v.resource_id.size()));
            if constexpr (requires { v.patient_key; }) v.patient_key.clear();
            if constexpr (requires { v.last_updated; }) v.last_updated.clear();
            if constexpr (requires { v.patient; }) v.patient.clear();
          },
          f);
      std::string expected = "prefix";
      model::encode(std::vector<model::fact>{f}, expected);
      std::string stripped = "prefix";
      model::encode_stripped(original, 5, stripped);
      CHECK(stripped == expected);
    }
  }

  TEST_CASE("an empty list and default facts round-trip") {
    std::string bytes;
    model::encode({}, bytes);
    REQUIRE(model::decode_facts(bytes));
    CHECK(model::decode_facts(bytes)->empty());
    const std::vector<model::fact> defaults = {model::lab_result{}, model::retraction{}};
    bytes.clear();
    model::encode(defaults, bytes);
    REQUIRE(model::decode_facts(bytes));
    CHECK(*model::decode_facts(bytes) == defaults);
  }

  TEST_CASE("every truncation, a trailing byte, a wrong version or alternative are refused") {
    std::string bytes;
    model::encode(every_kind(), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_facts(std::string_view(bytes).substr(0, n)));
    }
    CHECK_FALSE(model::decode_facts(bytes + 'x'));
    auto wrong_version = bytes;
    wrong_version[0] = 9;
    CHECK_FALSE(model::decode_facts(wrong_version));
    std::string one;
    model::encode(std::vector<model::fact>{model::retraction{}}, one);
    one[2] = 8;  // the variant index after the version and the count: past the last alternative
    CHECK_FALSE(model::decode_facts(one));
  }

  TEST_CASE("regression: a bool byte other than 0 or 1 is refused, not loaded") {
    // UBSan: "load of value 51, which is not a valid value for type 'bool'" on a damaged
    // record (an optional's presence byte, a flag).
    for (const auto scalars : {model::archive::layout::fixed, model::archive::layout::compact}) {
      for (const char byte : {'\0', '\1', '\2', '3', '\xFF'}) {
        CAPTURE(static_cast<int>(static_cast<unsigned char>(byte)));
        bool flag = false;
        model::archive::reader r(std::string_view(&byte, 1), 2, scalars);
        r(flag);
        CHECK(r.ok() == (byte == 0 || byte == 1));
        if (r.ok()) CHECK(flag == (byte == 1));
      }
    }
  }

  TEST_CASE("decode_facts_into overwrites facts of any kind in place, and checks the count") {
    const auto original = every_kind();
    std::string bytes;
    model::encode(original, bytes);
    // Facts of other kinds, and of the same kinds with longer strings and more list items.
    auto into = original;
    std::reverse(into.begin(), into.end());
    auto same_kinds = original;
    for (auto& f : same_kinds) {
      std::visit([](auto& v) { v.resource_id.append(40, 'x'); }, f);
      if (auto* visit = std::get_if<model::encounter>(&f)) {
        visit->participants.resize(visit->participants.size() + 3);
        visit->locations.assign(5, "Location/stale-and-long-enough-to-be-on-the-heap");
      }
    }
    for (auto* list : {&into, &same_kinds}) {
      REQUIRE(model::decode_facts_into(bytes, *list));
      CHECK(*list == original);
    }
    auto one_short = original;
    one_short.pop_back();
    CHECK_FALSE(model::decode_facts_into(bytes, one_short));
    auto one_more = original;
    one_more.push_back(model::retraction{});
    CHECK_FALSE(model::decode_facts_into(bytes, one_more));
    CHECK_FALSE(model::decode_facts_into(bytes.substr(0, bytes.size() - 1), into));
  }

  TEST_CASE("count_facts reads the count both versions declare, and 0 from anything else") {
    const auto original = every_kind();
    for (const int version : {1, 2}) {
      CAPTURE(version);
      std::string bytes;
      model::encode_as(original, version, bytes);
      CHECK(model::count_facts(bytes) == original.size());
    }
    std::string empty;
    model::encode({}, empty);
    CHECK(model::count_facts(empty) == 0);
    CHECK(model::count_facts("") == 0);
    CHECK(model::count_facts(std::string(1, '\x09')) == 0);  // no such version
    std::string huge(1, '\x02');  // a count past the bytes, as decode_facts refuses it
    huge += std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8);
    CHECK(model::count_facts(huge) == 0);
  }

  TEST_CASE("a huge declared count is refused without allocating it") {
    std::string fixed(1, '\x01');  // version 1: an 8-byte count
    fixed += std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8);
    CHECK_FALSE(model::decode_facts(fixed));
    std::string compact(1, '\x02');  // version 2: a varint count
    compact += std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8);
    CHECK_FALSE(model::decode_facts(compact));
  }

  TEST_CASE("facts stored by an earlier build (format 1, fixed-width scalars) still decode") {
    const auto original = every_kind();
    std::string fixed;
    model::encode_as(original, 1, fixed);
    const auto decoded = model::decode_facts(fixed);
    REQUIRE(decoded);
    CHECK(*decoded == original);
    std::string compact;
    model::encode(original, compact);
    CHECK(compact.size() < fixed.size());
    for (std::size_t n = 0; n < fixed.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_facts(std::string_view(fixed).substr(0, n)));
    }
  }

  TEST_CASE("a lab value comes back bit for bit, however it was written") {
    const double values[] = {0.3,
                             0.1 + 0.2,
                             -0.0,
                             140,
                             -5.25,
                             123456.789,
                             3.141592653589793,
                             1e300,
                             -1e-300,
                             5e-324,
                             0.8,
                             1e15,
                             9007199254740993.0,
                             -2.5e-7,
                             1.0 / 3,
                             0.103,
                             36.6,
                             1e-6,
                             std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN()};
    for (const double v : values) {
      CAPTURE(v);
      model::lab_result lab;
      lab.value = v;
      lab.low = v;
      std::string bytes;
      model::encode(std::vector<model::fact>{lab}, bytes);
      const auto decoded = model::decode_facts(bytes);
      REQUIRE(decoded);
      const auto& back = std::get<model::lab_result>(decoded->front());
      CHECK(std::bit_cast<std::uint64_t>(back.value) == std::bit_cast<std::uint64_t>(v));
      CHECK(std::bit_cast<std::uint64_t>(*back.low) == std::bit_cast<std::uint64_t>(v));
    }
  }

  TEST_CASE("short decimals take a byte or two; other doubles 9 bytes") {
    auto size_of = [](double v) {
      model::lab_result lab;
      lab.value = v;
      std::string bytes;
      model::encode(std::vector<model::fact>{lab}, bytes);
      return bytes.size();
    };
    const auto base = size_of(0);
    CHECK(size_of(0.3) == base);          // 3 / 10: one byte like 0
    CHECK(size_of(140) == base + 1);      // 140: two bytes
    CHECK(size_of(1.0 / 3) == base + 8);  // the marker and 8 raw bytes
  }
}
