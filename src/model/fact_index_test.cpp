#include "covgate/model/fact_index.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace covgate::model;

namespace {

lab_result lab(double value, const char* id, const char* key = "K",
               const char* updated = "2026-03-01T10:00:00Z") {
  lab_result r;
  r.resource_id = id;
  r.patient = "Patient/p";
  r.patient_key = key;
  r.kind = lab_kind::c_peptide;
  r.loinc = "1986-9";
  r.has_value = true;
  r.value = value;
  r.unit = "ng/mL";
  r.unit_known = true;
  r.low = 0.8;
  r.interpretation = {"L"};
  r.effective = *parse_fhir_datetime("2026-03-01T08:00:00Z");
  r.status = "final";
  r.last_updated = updated;
  return r;
}

double value_of(const fact& f) { return std::get<lab_result>(f).value; }

// Every resource id lands on one table key: the index must tell them apart by id.
std::uint32_t one_hash(std::string_view) noexcept { return 42; }

}  // namespace

TEST_SUITE("model.fact_index") {
  TEST_CASE("thousands of patients are found by key through the table's growth, and cleared") {
    fact_index index;
    constexpr int patients = 5000;  // the patient table rehashes several times on the way
    std::vector<std::string> ids, keys;
    for (int i = 0; i < patients; ++i) {
      ids.push_back("Observation/o" + std::to_string(i));
      keys.push_back("MBI" + std::to_string(i) + "-a-key-longer-than-fifteen");
      CHECK(index.apply({lab(i, ids.back().c_str(), keys.back().c_str())}) ==
            fact_index::change::added);
    }
    for (int i = 0; i < patients; i += 97) {
      const auto facts = index.for_patient(keys[i]);
      REQUIRE(facts.size() == 1);
      CHECK(value_of(facts[0]) == i);
    }
    CHECK(index.for_patient("MBI-nobody").empty());
    index.clear();
    CHECK(index.size() == 0);
    CHECK(index.for_patient(keys[7]).empty());
    CHECK_FALSE(index.find(ids[7]));
    // Filled again after clear(): patients numbered from the start.
    CHECK(index.apply({lab(1.5, ids[7].c_str(), keys[9].c_str())}) == fact_index::change::added);
    REQUIRE(index.for_patient(keys[9]).size() == 1);
    CHECK(index.for_patient(keys[7]).empty());
  }

  TEST_CASE("resources of patients in turn, runs and near-equal keys each land with their own") {
    // The last patient is asked first: a run of one patient's resources, a change of patient,
    // a return to an earlier one, and keys that differ in their last character or length.
    fact_index index;
    const std::vector<std::pair<const char*, const char*>> arrivals = {
        {"Observation/a1", "K1"},  {"Observation/a2", "K1"}, {"Observation/b1", "K10"},
        {"Observation/a3", "K1"},  {"Observation/c1", "K2"}, {"Observation/c2", "K2"},
        {"Observation/b2", "K10"}, {"Observation/d1", "K"},  {"Observation/a4", "K1"}};
    double value = 0;
    for (const auto& [id, key] : arrivals) {
      CHECK(index.apply({lab(++value, id, key)}) == fact_index::change::added);
    }
    const auto values = [&](const char* key) {
      std::vector<double> out;
      for (const auto& f : index.for_patient(key)) out.push_back(value_of(f));
      return out;
    };
    CHECK(values("K1") == std::vector<double>{1, 2, 4, 9});
    CHECK(values("K10") == std::vector<double>{3, 7});
    CHECK(values("K2") == std::vector<double>{5, 6});
    CHECK(values("K") == std::vector<double>{8});
    index.clear();
    // The last patient before clear() again first: it must not be taken for the one it was.
    CHECK(index.apply({lab(1, "Observation/e1", "K1")}) == fact_index::change::added);
    CHECK(index.apply({lab(2, "Observation/e2", "K2")}) == fact_index::change::added);
    CHECK(values("K1") == std::vector<double>{1});
    CHECK(values("K2") == std::vector<double>{2});
    CHECK(values("K10").empty());
  }

  TEST_CASE("a patient keeps the first two subject forms its facts name it by, in one string") {
    detail::subject_forms forms;
    CHECK(forms[0].empty());
    CHECK(forms[1].empty());
    forms.add("");  // no subject: nothing kept
    CHECK(forms[0].empty());
    forms.add("Patient/123");
    forms.add("Patient/123");  // a form it has
    CHECK(forms[0] == "Patient/123");
    CHECK(forms[1].empty());
    forms.add(std::string_view("odd\0form", 8));  // cannot be told apart from the separator
    CHECK(forms[1].empty());
    forms.add("https://example.org/mrn|77");
    forms.add("Patient/999");  // no room left
    CHECK(forms[0] == "Patient/123");
    CHECK(forms[1] == "https://example.org/mrn|77");
  }

  TEST_CASE("a newer version replaces, an older one is ignored, a retraction withdraws") {
    fact_index index;
    auto v1 = lab(0.5, "Observation/c1");
    CHECK(index.apply({v1}) == fact_index::change::added);
    auto v2 = v1;
    v2.value = 0.7;
    v2.status = "corrected";
    v2.last_updated = "2026-03-02T10:00:00Z";
    CHECK(index.apply({v2}) == fact_index::change::replaced);
    CHECK(index.apply({v1}) == fact_index::change::ignored);
    REQUIRE(index.for_patient("K").size() == 1);
    CHECK(value_of(index.for_patient("K")[0]) == 0.7);
    auto same_time = v2;
    same_time.value = 0.9;  // no newer timestamp: the later arrival wins
    CHECK(index.apply({same_time}) == fact_index::change::replaced);
    CHECK(index.apply({retraction{"Observation/c1", "Patient/p", "K"}}) ==
          fact_index::change::retracted);
    CHECK(index.for_patient("K").empty());
    CHECK_FALSE(index.find("Observation/c1"));
    CHECK(index.size() == 0);
    CHECK(index.apply({retraction{"Observation/c1", "Patient/p", "K"}}) ==
          fact_index::change::ignored);
  }

  TEST_CASE("an Observation's components are one resource") {
    fact_index index;
    auto a = lab(60, "Observation/f#component[0]");
    auto b = lab(61, "Observation/f#component[1]");
    CHECK(index.apply({a, b}) == fact_index::change::added);
    CHECK(index.find("Observation/f")->size() == 2);
    CHECK(fact_index::resource_of("Observation/f#component[1]") == "Observation/f");
  }

  TEST_CASE("facts come back exactly as applied, whether or not they repeat the shared fields") {
    fact_index index;
    // Repeating id, key and lastUpdated: stored without them, restored on the way out.
    const std::vector<fact> plain = {lab(1, "Observation/a#component[0]"),
                                     lab(2, "Observation/a#component[1]")};
    // A fact whose key or timestamp differs from its record's: stored as it is.
    auto odd_key = lab(3, "Observation/b", "K");
    auto other = lab(4, "Observation/b#2", "");
    other.last_updated.clear();
    const std::vector<fact> mixed = {odd_key, other};
    encounter visit;
    visit.resource_id = "Encounter/e";
    visit.patient = "Patient/p";
    visit.patient_key = "K";
    visit.status = "finished";
    visit.participants = {{"Practitioner/1", provider_type::physician, {"ATND"}}};
    patient person;
    person.resource_id = "Patient/p";
    person.key = "K";
    person.identifiers = {"http://hl7.org/fhir/sid/us-mbi|K"};
    CHECK(index.apply(plain) == fact_index::change::added);
    CHECK(index.apply(mixed) == fact_index::change::added);
    CHECK(index.apply({visit}) == fact_index::change::added);
    CHECK(index.apply({person}) == fact_index::change::added);
    const auto facts = index.for_patient("K");
    REQUIRE(facts.size() == 6);
    CHECK(facts[0] == plain[0]);
    CHECK(facts[1] == plain[1]);
    CHECK(facts[2] == mixed[0]);
    CHECK(facts[3] == mixed[1]);
    CHECK(facts[4] == fact{visit});
    CHECK(facts[5] == fact{person});
    CHECK(*index.find("Observation/b") == mixed);
    CHECK(index.size() == 4);
  }

  TEST_CASE("a replaced resource keeps its place; one moved to another patient leaves") {
    fact_index index;
    index.apply({lab(1, "Observation/1")});
    index.apply({lab(2, "Observation/2")});
    index.apply({lab(3, "Observation/3")});
    CHECK(index.apply({lab(22, "Observation/2", "K", "2026-03-02T00:00:00Z")}) ==
          fact_index::change::replaced);
    auto facts = index.for_patient("K");
    REQUIRE(facts.size() == 3);
    CHECK(value_of(facts[0]) == 1);
    CHECK(value_of(facts[1]) == 22);
    CHECK(value_of(facts[2]) == 3);
    // Linked to another patient by a later version.
    CHECK(index.apply({lab(5, "Observation/1", "M", "2026-03-03T00:00:00Z")}) ==
          fact_index::change::replaced);
    CHECK(index.for_patient("K").size() == 2);
    REQUIRE(index.for_patient("M").size() == 1);
    CHECK(value_of(index.for_patient("M")[0]) == 5);
    CHECK(index.apply({retraction{"Observation/1", "Patient/q", "M"}}) ==
          fact_index::change::retracted);
    CHECK(index.for_patient("M").empty());
    CHECK(index.size() == 2);
  }

  TEST_CASE("resources whose ids share one hash stay apart") {
    fact_index index(one_hash);
    CHECK(index.apply({lab(1, "Observation/1", "K")}) == fact_index::change::added);
    CHECK(index.apply({lab(2, "Observation/2", "M")}) == fact_index::change::added);
    CHECK(index.apply({lab(3, "Observation/3", "K")}) == fact_index::change::added);
    CHECK(value_of(index.find("Observation/2")->front()) == 2);
    CHECK(value_of(index.find("Observation/3")->front()) == 3);
    CHECK_FALSE(index.find("Observation/4"));
    CHECK(index.apply({lab(33, "Observation/3", "K", "2026-03-02T00:00:00Z")}) ==
          fact_index::change::replaced);
    CHECK(index.apply({retraction{"Observation/1", "Patient/p", "K"}}) ==
          fact_index::change::retracted);
    // The first resource's entry is gone; the others are still found by their ids.
    CHECK_FALSE(index.find("Observation/1"));
    CHECK(value_of(index.find("Observation/2")->front()) == 2);
    CHECK(value_of(index.find("Observation/3")->front()) == 33);
    CHECK(index.apply({lab(1, "Observation/1", "K")}) == fact_index::change::added);
    CHECK(index.for_patient("K").size() == 2);
    CHECK(index.for_patient("M").size() == 1);
    CHECK(index.size() == 3);
  }

  TEST_CASE("a run's key: hashed ahead as the default index hashes it, warmed, applied with") {
    fact_index index;
    CHECK(index.hashes_by_default());
    CHECK_FALSE(fact_index(one_hash).hashes_by_default());
    std::vector<fact> batch = {lab(1, "Observation/1", "K"), lab(2, "Observation/2", "K")};
    fact_index::encoded_ahead ahead;
    fact_index::encode_ahead(batch, ahead);
    REQUIRE(ahead.runs.size() == 2);
    CHECK(ahead.runs[0].key == index.key_of("Observation/1"));
    CHECK(ahead.runs[1].key == index.key_of("Observation/2"));
    CHECK(ahead.runs[0].key != ahead.runs[1].key);
    index.warm(ahead.runs[0].key);  // an empty table: nothing to fetch
    CHECK(index.apply(std::span<fact>(batch).first(1), {}, ahead.runs[0].key) ==
          fact_index::change::added);
    index.warm(ahead.runs[1].key);
    // Found again by its id alone: the key given was the one the index computes.
    CHECK(index.apply({lab(3, "Observation/1", "K", "2026-03-02T00:00:00Z")}) ==
          fact_index::change::replaced);
    CHECK(index.size() == 1);
  }

  TEST_CASE("a forgotten resource is gone as if never seen: an older version is then added") {
    for (const auto hash : {&fact_index::default_hash, &one_hash}) {
      fact_index index(hash);
      auto newer = lab(0.7, "Observation/c1", "K", "2026-03-05T10:00:00Z");
      CHECK(index.apply({newer}) == fact_index::change::added);
      CHECK(index.apply({lab(2, "Observation/c2", "K")}) == fact_index::change::added);
      CHECK(index.apply({lab(3, "Observation/c3", "M")}) == fact_index::change::added);
      CHECK(index.forget("Observation/c1"));
      CHECK_FALSE(index.forget("Observation/c1"));
      CHECK_FALSE(index.forget("Observation/none"));
      CHECK_FALSE(index.find("Observation/c1"));
      CHECK(index.size() == 2);
      REQUIRE(index.for_patient("K").size() == 1);
      CHECK(value_of(index.for_patient("K")[0]) == 2);
      CHECK(value_of(index.find("Observation/c3")->front()) == 3);
      // Without the forget, this older version would be ignored.
      CHECK(index.apply({lab(0.5, "Observation/c1", "K")}) == fact_index::change::added);
      CHECK(value_of(index.find("Observation/c1")->front()) == 0.5);
      CHECK(index.size() == 3);
    }
  }
}

namespace {

// A plain model of the index's contract: the current group of every resource, and each
// patient's resources in arrival order (a replacement keeps its place unless it moves).
struct reference_index {
  struct current {
    std::vector<fact> group;
    std::string last_updated;
    std::string key;
  };
  std::map<std::string, current> by_resource;
  std::map<std::string, std::vector<std::string>> order;

  fact_index::change apply(const std::vector<fact>& group) {
    const auto resource = fact_index::resource_of(resource_id_of(group.front()));
    const auto it = by_resource.find(resource);
    if (std::holds_alternative<retraction>(group.front())) {
      if (it == by_resource.end()) return fact_index::change::ignored;
      std::erase(order[it->second.key], resource);
      by_resource.erase(it);
      return fact_index::change::retracted;
    }
    const auto& updated = last_updated_of(group.front());
    const auto& key = patient_key_of(group.front());
    if (it == by_resource.end()) {
      by_resource[resource] = {group, updated, key};
      order[key].push_back(resource);
      return fact_index::change::added;
    }
    if (older_version(updated, it->second.last_updated)) return fact_index::change::ignored;
    if (it->second.key != key) {
      std::erase(order[it->second.key], resource);
      order[key].push_back(resource);
    }
    it->second = {group, updated, key};
    return fact_index::change::replaced;
  }

  [[nodiscard]] std::vector<fact> for_patient(const std::string& key) const {
    std::vector<fact> out;
    const auto it = order.find(key);
    if (it == order.end()) return out;
    for (const auto& resource : it->second) {
      const auto& group = by_resource.at(resource).group;
      out.insert(out.end(), group.begin(), group.end());
    }
    return out;
  }
};

// Few table keys for many ids: most lookups meet another resource's entry.
std::uint32_t three_hashes(std::string_view id) noexcept {
  return static_cast<std::uint32_t>(id.size() % 3);
}

}  // namespace

TEST_SUITE("model.fact_index") {
  TEST_CASE("agrees with a plain model over random additions, versions, moves and retractions") {
    for (const auto hash : {&fact_index::default_hash, &three_hashes}) {
      fact_index index(hash);
      // The same facts encoded ahead (a reader thread's way): the index must hold the same.
      fact_index ahead_index(hash);
      fact_index::encoded_ahead ahead;
      std::size_t runs_encoded_ahead = 0;
      reference_index expected;
      std::mt19937 random(20261130);
      const std::vector<std::string> keys = {"K", "M", "N1", ""};
      // Compact-able instants and forms that must come back as text, as sent.
      const std::vector<std::string> stamps = {"",
                                               "2026-03-01T00:00:00Z",
                                               "2026-03-02T23:59:59Z",
                                               "1969-12-31T23:59:59Z",
                                               "2026-03-03T00:00:00.5Z",
                                               "2026-03-03T01:00:00+01:00",
                                               "2026-02-30T00:00:00Z",
                                               "2026-03-04"};
      // Three forms: a patient keeps the first two it is named by, the third stays in the record.
      const std::vector<std::string> subjects = {
          "Patient/p", "Patient?identifier=http://hl7.org/fhir/sid/us-mbi|1EG4TE5MK73", "Patient/q",
          ""};
      auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
      std::vector<fact> reused;
      for (int step = 0; step < 4000; ++step) {
        CAPTURE(step);
        const auto id = "Observation/" + std::string(1 + pick(12), 'x');
        const auto& key = keys[pick(keys.size())];
        std::vector<fact> group;
        if (pick(8) == 0) {
          group.push_back(retraction{id, "Patient/p", key});
        } else {
          const auto& stamp = stamps[pick(stamps.size())];
          const auto components = 1 + pick(3);
          for (std::size_t c = 0; c < components; ++c) {
            // Whole numbers, short decimals and doubles with no short form.
            const double value = pick(3) == 0 ? step : pick(2) == 0 ? step / 100.0 : step / 7.0;
            auto f = lab(value, (id + "#component[" + std::to_string(c) + "]").c_str(), key.c_str(),
                         stamp.c_str());
            if (pick(10) == 0) f.patient_key = "other";  // a record that cannot be stripped
            if (c > 0 && pick(10) == 0) f.last_updated = "2026-03-05T00:00:00Z";  // nor this
            // Mostly one subject per resource (as sent), sometimes each its own.
            f.patient = c > 0 && pick(3) != 0 ? std::get<lab_result>(group.front()).patient
                                              : subjects[pick(subjects.size())];
            group.push_back(f);
          }
        }
        auto batch = group;
        fact_index::encode_ahead(batch, ahead);
        REQUIRE(ahead.runs.size() == 1);
        REQUIRE(ahead.runs[0].facts == group.size());
        if (ahead.runs[0].size > 0) ++runs_encoded_ahead;
        // With the run's key hashed ahead when the index's keys are the default hash (the
        // gate's way), else its own; warmed first, as the gate warms a block of runs.
        const auto table_key =
            ahead_index.hashes_by_default() ? ahead.runs[0].key : ahead_index.key_of(id);
        ahead_index.warm(table_key);
        const auto by_ahead = ahead_index.apply(
            batch, std::string_view(ahead.bytes).substr(ahead.runs[0].begin, ahead.runs[0].size),
            table_key);
        const auto by_expected = expected.apply(group);  // before apply() spends the group
        REQUIRE(index.apply(group) == by_expected);
        REQUIRE(by_ahead == by_expected);
        if (step % 97 == 0) {
          for (const auto& k : keys) CHECK(index.for_patient(k) == expected.for_patient(k));
        }
        // Into one list kept across patients and steps (the gate's way): its front is the
        // patient's facts, whatever earlier, longer decodes left in it.
        const auto& k = keys[pick(keys.size())];
        const auto n = index.for_patient(k, reused);
        REQUIRE(n <= reused.size());
        CHECK(std::vector<fact>(reused.begin(), reused.begin() + static_cast<std::ptrdiff_t>(n)) ==
              expected.for_patient(k));
      }
      for (const auto& k : keys) CHECK(index.for_patient(k) == expected.for_patient(k));
      for (const auto& k : keys) CHECK(ahead_index.for_patient(k) == expected.for_patient(k));
      CHECK(runs_encoded_ahead > 1000);  // most resources: the path is exercised
      CHECK(index.size() == expected.by_resource.size());
      for (const auto& [resource, current] : expected.by_resource) {
        CHECK(index.find(resource) == std::optional(current.group));
      }
    }
  }
}
