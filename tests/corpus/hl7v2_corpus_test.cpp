// Every file of the public HL7 v2 corpus (test messages no one here wrote: ADT, ORU,
// batches, LF and CRLF files, broken ones) goes through the splitter and the reader: nothing
// crashes, splitting one byte at a time gives what splitting whole gives, and what covgate maps
// (visits, patients, lab results) comes out as facts. The counts are asserted so a change shows.
// The corpus lives outside the repository, in $CORPUS/hl7v2 (corpus_dir() has the default);
// without it the test says so and passes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "covgate/hl7v2/reader.hpp"
#include "covgate/hl7v2/splitter.hpp"

namespace fs = std::filesystem;
using namespace covgate;

namespace {

fs::path corpus_dir() {
  if (const char* env = std::getenv("CORPUS")) return fs::path(env) / "hl7v2";
  return fs::path(COVGATE_SOURCE_DIR).parent_path() / "shared" / "corpus" / "hl7v2";
}

struct split_result {
  std::vector<std::string> messages;
  std::vector<hl7v2::stream_notice> notices;
};

split_result split(const std::string& bytes, std::size_t chunk) {
  split_result out;
  hl7v2::message_splitter s(
      [&](std::string_view m, const hl7v2::message_info&) { out.messages.emplace_back(m); },
      [&](const hl7v2::stream_notice& n) { out.notices.push_back(n); });
  for (std::size_t at = 0; at < bytes.size(); at += chunk)
    s.put(std::string_view(bytes).substr(at, chunk));
  s.finish();
  return out;
}

}  // namespace

TEST_SUITE("corpus.hl7v2") {
  TEST_CASE("every public HL7 v2 test file is read; visits and patients come out as facts") {
    const auto dir = corpus_dir();
    if (!fs::is_directory(dir)) {
      MESSAGE("SKIPPED: HL7 v2 corpus not found at " << dir << " (set CORPUS)");
      return;
    }
    const auto tables = mapping::tables::parse(mapping::embedded_sources());
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && e.path().filename() != "LICENSE") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::map<std::string, int> totals;
    for (const auto& file : files) {
      CAPTURE(file.lexically_relative(dir).string());
      std::ifstream in(file, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      const std::string bytes = buffer.str();
      const auto whole = split(bytes, bytes.size() + 1);
      const auto bytewise = split(bytes, 1);
      CHECK(whole.messages == bytewise.messages);
      CHECK(whole.notices.size() == bytewise.notices.size());
      totals["files"] += 1;
      totals["notices"] += static_cast<int>(whole.notices.size());
      for (const auto& message : whole.messages) {
        const auto r = hl7v2::read(message, tables);
        ++totals["messages"];
        ++totals["ack " + std::string(hl7v2::name(r.ack()))];
        totals["observations"] += static_cast<int>(r.observations);
        totals["observations not read"] += static_cast<int>(r.not_read);
        for (const auto& f : r.facts) ++totals["fact " + std::string(model::kind_of(f))];
        for (const auto& i : r.issues) {
          if (i.level != hl7v2::severity::information) {
            ++totals[std::string(hl7v2::name(i.level)) + " " +
                     std::string(hl7v2::err_code(i.code))];
          }
        }
        // Every ACK the result asks for can be written and read back.
        for (const auto& ack : hl7v2::write_acks(r, {})) CHECK(hl7v2::parse_msh(ack));
      }
    }
    MESSAGE("totals: " << [&] {
      std::string s;
      for (const auto& [k, v] : totals) s += k + "=" + std::to_string(v) + " ";
      return s;
    }());
    CHECK(totals["files"] == 177);
    CHECK(totals["messages"] == 327);
    // The visits of ADT A01/A03/A04/A08 (A11/A13 retract), and every PID's patient.
    CHECK(totals["fact encounter"] == 81);
    CHECK(totals["fact retraction"] == 4);
    CHECK(totals["fact patient"] == 240);
    CHECK(totals["fact practitioner"] == 10);
    // No lab result: the corpus's ORUs (CBC, COVID-19, flu, micro) carry none of the LOINC
    // codes loinc.json lists, so their OBX are counted as not read.
    CHECK(totals["fact lab"] == 0);
    CHECK(totals["observations"] == 1027);
    // AR: message types covgate does not read (SIU, MDM, ORM…), A40/A41, MSH-9 missing,
    // MSH-2 "^~\\&" (a doubled escape character), MSH-11 "N". AE: an ADT A01 without PV1,
    // an ORU whose PID-3 is empty.
    CHECK(totals["ack AA"] == 239);
    CHECK(totals["ack AE"] == 2);
    CHECK(totals["ack AR"] == 86);
    // Text outside any message (three files: "[SOM]" markers, "junk" lines, segments of a
    // message without its MSH), and two BTS-1 that do not match (25 for 20 messages; 1 for the
    // batch whose message lacks its MSH).
    CHECK(totals["notices"] == 5);
  }
}
