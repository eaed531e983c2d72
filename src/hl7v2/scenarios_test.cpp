// Proof that HL7 v2 and FHIR give the same facts: every gate scenario with FHIR records
// (samples/inputs/scenarios) also exists with its records as HL7 v2
// (samples/inputs/scenarios-hl7v2, written by tools/gen/make_scenarios.py). Both are read and
// linked; every fact the policy reads must be the same (resource ids and versions may differ).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "covgate/fhir/linker.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/hl7v2/splitter.hpp"

namespace fs = std::filesystem;
using namespace covgate;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

std::string when(const model::moment& m) {
  return m.valid() ? m.day.iso() + "@" + std::to_string(m.utc_minutes) + (m.has_time ? "t" : "d")
                   : "-";
}

std::string optional(const std::optional<double>& v) { return v ? number(*v) : "-"; }

// What the policy reads of each fact, as one comparable line.
std::string policy_view(const model::fact& f) {
  std::string out(model::kind_of(f));
  if (const auto* l = std::get_if<model::lab_result>(&f)) {
    out += " " + std::string(mapping::name(l->kind)) + " " + l->loinc +
           " value=" + (l->has_value ? number(l->value) : "-") + " " + l->unit +
           (l->unit_known ? "" : "?") + " low=" + optional(l->low) + " high=" + optional(l->high) +
           " interp=";
    for (const auto& i : l->interpretation) out += i + ",";
    out += " at=" + when(l->effective) +
           " fasting=" + std::to_string(static_cast<int>(l->fasting)) + " " + l->status +
           " key=" + l->patient_key;
  } else if (const auto* e = std::get_if<model::evidence>(&f)) {
    out += " " + e->code + " " + e->value_type + " flag=" + (e->flag ? "1" : "0") +
           " n=" + number(e->number) + " text=" + e->text + " at=" + when(e->effective) +
           " key=" + e->patient_key;
  } else if (const auto* v = std::get_if<model::encounter>(&f)) {
    std::vector<std::string> types;
    for (const auto& p : v->participants) types.emplace_back(mapping::name(p.type));
    std::sort(types.begin(), types.end());
    out += " " + v->class_code + " " + v->status + " start=" + when(v->start) +
           " end=" + when(v->end) + " providers=";
    for (const auto& t : types) out += t + ",";
    out += " key=" + v->patient_key;
  } else if (const auto* p = std::get_if<model::patient>(&f)) {
    out += " key=" + p->key + " born=" + p->birth_date.iso() +
           " sex=" + (p->sex ? std::string(1, p->sex) : "-");
  } else if (const auto* d = std::get_if<model::practitioner>(&f)) {
    out += " npi=" + d->npi + " type=" + std::string(mapping::name(d->type)) + " quals=";
    for (const auto& q : d->qualifications) out += q + ",";
  } else if (const auto* c = std::get_if<model::condition>(&f)) {
    out += " " + c->system + "|" + c->code + " key=" + c->patient_key;
  } else if (const auto* r = std::get_if<model::retraction>(&f)) {
    out += " key=" + r->patient_key;
  }
  return out;
}

struct reading {
  std::vector<std::string> facts;  // sorted policy views (patients once per key)
  std::size_t errors = 0;
};

void finish(reading& r, fhir::linker& linker) {
  for (auto& f : linker.take_waiting()) r.facts.push_back("unlinked " + policy_view(f));
  std::sort(r.facts.begin(), r.facts.end());
  // A patient is the same patient whichever message repeats it.
  r.facts.erase(std::unique(r.facts.begin(), r.facts.end(),
                            [](const std::string& a, const std::string& b) {
                              return a == b && a.rfind("patient ", 0) == 0;
                            }),
                r.facts.end());
}

reading read_fhir(const fs::path& folder) {
  reading r;
  fhir::linker linker([&](model::fact&& f) { r.facts.push_back(policy_view(f)); });
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const auto text = slurp(file);
    auto result = fhir::read(text, fhir::sniff(text), tables());
    r.errors += result.has_errors() ? 1 : 0;
    for (auto& f : result.facts) linker.add(std::move(f));
  }
  finish(r, linker);
  return r;
}

reading read_hl7v2(const fs::path& folder, std::vector<std::string>& extensions) {
  reading r;
  fhir::linker linker([&](model::fact&& f) { r.facts.push_back(policy_view(f)); });
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) {
    extensions.push_back(e.path().extension().string());
    if (e.path().extension() == ".hl7") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    hl7v2::message_splitter splitter(
        [&](std::string_view message, const hl7v2::message_info&) {
          auto result = hl7v2::read(message, tables());
          CHECK_MESSAGE(result.ack() == hl7v2::ack_code::application_accept,
                        file.filename().string());
          for (const auto& i : result.issues) {
            if (i.level != hl7v2::severity::information && i.code != hl7v2::error::unit_unknown) {
              MESSAGE(file.filename().string() << ": " << hl7v2::to_string(i));
              ++r.errors;
            }
          }
          for (auto& f : result.facts) linker.add(std::move(f));
        },
        [&](const hl7v2::stream_notice&) { ++r.errors; });
    splitter.put(slurp(file));
    splitter.finish();
  }
  finish(r, linker);
  return r;
}

std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

}  // namespace

TEST_SUITE("hl7v2.scenarios") {
  TEST_CASE("every FHIR gate scenario gives the same facts from its HL7 v2 form") {
    const fs::path root(COVGATE_SOURCE_DIR "/samples/inputs");
    std::vector<fs::path> scenarios;
    for (const auto& e : fs::directory_iterator(root / "scenarios")) scenarios.push_back(e.path());
    std::sort(scenarios.begin(), scenarios.end());
    std::size_t compared = 0, labs = 0, evidence = 0, visits = 0;
    for (const auto& folder : scenarios) {
      const auto name = folder.filename().string();
      CAPTURE(name);
      const auto fhir = read_fhir(folder);
      const auto v2_folder = root / "scenarios-hl7v2" / name;
      if (fhir.facts.empty()) {
        CHECK_FALSE(fs::exists(v2_folder));  // no records, nothing to translate
        continue;
      }
      REQUIRE(fs::is_directory(v2_folder));
      std::vector<std::string> extensions;
      const auto v2 = read_hl7v2(v2_folder, extensions);
      CHECK(fhir.errors == 0);
      CHECK(v2.errors == 0);
      CHECK(std::find(extensions.begin(), extensions.end(), ".json") == extensions.end());
      // The claims are the same files.
      for (const auto& e : fs::directory_iterator(folder)) {
        if (e.path().extension() != ".x12") continue;
        CHECK(slurp(e.path()) == slurp(v2_folder / e.path().filename()));
      }
      // Practitioners are compared through the visits that name them (FHIR gives one per
      // Practitioner resource, HL7 v2 one per credentialed provider).
      CHECK_MESSAGE(fhir.facts == v2.facts, "FHIR:\n"
                                                << lines(fhir.facts) << "HL7 v2:\n"
                                                << lines(v2.facts));
      ++compared;
      for (const auto& f : v2.facts) {
        labs += f.rfind("lab ", 0) == 0;
        evidence += f.rfind("evidence ", 0) == 0;
        visits += f.rfind("encounter ", 0) == 0;
      }
    }
    CHECK(compared == 40);
    MESSAGE("compared " << compared << " scenarios: " << labs << " labs, " << evidence
                        << " evidence items, " << visits << " visits");
    CHECK(labs > 50);
    CHECK(evidence > 50);
    CHECK(visits > 20);
  }
}
