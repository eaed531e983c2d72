#include "covgate/x12/split_by_patient.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "support/x12_fixtures.hpp"

using namespace covgate;
using namespace covgate::x12;

namespace {

// ---- a multi-patient fixture built in code ---------------------------------------------------

struct subscriber_spec {
  std::string member_id;
  std::vector<std::string> claims;
  bool dependent = false;  // the claims sit under a patient HL (23)
};
using provider_spec = std::vector<subscriber_spec>;
using set_spec = std::vector<provider_spec>;
using group_spec = std::vector<set_spec>;

std::vector<std::string> claim_segments(const std::string& claim_id) {
  return {"CLM*" + claim_id + "*50***12:B:1*Y*A*Y*Y", "HI*ABK:E1065", "LX*1",
          "SV1*HC:A4224:KX*50*UN*1***1", "DTP*472*D8*20260310"};
}

// A set body (BHT..last claim) with its HLs numbered and chained as the guide wants.
std::vector<std::string> set_body(const set_spec& providers) {
  std::vector<std::string> body = {"BHT*0019*00*BATCH42*20260310*1200*CH",
                                   "NM1*41*2*SUBMITTER*****46*S1", "PER*IC*DESK*TE*5555550100",
                                   "NM1*40*2*DME MAC*****46*R1"};
  int hl = 0;
  for (const auto& subscribers : providers) {
    const int provider_hl = ++hl;
    body.push_back("HL*" + std::to_string(provider_hl) + "**20*1");
    body.push_back("PRV*BI*PXC*332B00000X");
    body.push_back("NM1*85*2*HOMECARE SUPPLY*****XX*1999999984");
    body.push_back("N3*100 MAIN ST");
    body.push_back("N4*COLUMBUS*OH*43004");
    body.push_back("REF*EI*311234567");
    for (const auto& s : subscribers) {
      const int subscriber_hl = ++hl;
      body.push_back("HL*" + std::to_string(subscriber_hl) + "*" + std::to_string(provider_hl) +
                     "*22*" + (s.dependent ? "1" : "0"));
      body.push_back(s.dependent ? "SBR*P********MB" : "SBR*P*18*******MB");
      body.push_back("NM1*IL*1*DOE*JANE****MI*" + s.member_id);
      if (!s.dependent) body.push_back("DMG*D8*19500102*F");
      body.push_back("NM1*PR*2*MEDICARE*****PI*16013");
      if (s.dependent) {
        body.push_back("HL*" + std::to_string(++hl) + "*" + std::to_string(subscriber_hl) +
                       "*23*0");
        body.push_back("PAT*19");
        body.push_back("NM1*QC*1*DOE*KID");
        body.push_back("N3*1 ELM ST");
        body.push_back("N4*COLUMBUS*OH*43004");
        body.push_back("DMG*D8*20100102*M");
      }
      for (const auto& c : s.claims) {
        for (auto& segment : claim_segments(c)) body.push_back(std::move(segment));
      }
    }
  }
  return body;
}

// An interchange of `groups`, each segment followed by "~" and `line_break`.
std::string build_interchange(const std::vector<group_spec>& groups,
                              const std::string& line_break = "\n") {
  const std::string end = "~" + line_break;
  std::string out =
      "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
      "00501*000000777*0*T*:" +
      end;
  int set_number = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string gs06 = std::to_string(40 + g);
    out += "GS*HC*SUBMITTER*RECEIVER*20260310*1200*" + gs06 + "*X*005010X222A1" + end;
    for (const auto& set : groups[g]) {
      const std::string control = "000" + std::to_string(++set_number);
      const auto body = set_body(set);
      out += "ST*837*" + control + "*005010X222A1" + end;
      for (const auto& segment : body) out += segment + end;
      out += "SE*" + std::to_string(body.size() + 2) + "*" + control + end;
    }
    out += "GE*" + std::to_string(groups[g].size()) + "*" + gs06 + end;
  }
  out += "IEA*" + std::to_string(groups.size()) + "*000000777" + end;
  return out;
}

// ---- checks ----------------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// True when the reader accepted everything with no finding at all (a 999 of all 'A').
bool reads_cleanly(const test::collecting_sink& sink) {
  if (sink.interchanges.size() != 1) return false;
  const auto& result = sink.interchanges.front();
  if (result.ack_code() != 'A') return false;
  for (const auto& group : result.groups) {
    if (group.ack_code() != 'A') return false;
    for (const auto& set : group.sets) {
      if (set.ack_code() != 'A') return false;
    }
  }
  return true;
}

// The reader's findings, one per line, for failure messages.
std::string findings(const test::collecting_sink& sink) {
  std::string text;
  for (const auto& result : sink.interchanges) {
    for (const auto e : result.errors) text += "interchange: " + std::string(describe(e)) + "\n";
    for (const auto& group : result.groups) {
      for (const auto e : group.errors) text += "group: " + std::string(describe(e)) + "\n";
      for (const auto& set : group.sets) {
        for (const auto e : set.errors) text += "set: " + std::string(describe(e)) + "\n";
        for (const auto& f : set.segments) {
          text += f.segment_id + " #" + std::to_string(f.position) + " " + f.loop + ": " +
                  std::string(describe(f.code)) + "\n";
          for (const auto& el : f.elements) {
            text += "  element " + std::to_string(el.position) + ": " +
                    std::string(describe(el.code)) + "\n";
          }
        }
      }
    }
  }
  return text;
}

using claim_key = std::pair<std::string, std::string>;  // CLM01, subscriber member id

std::vector<claim_key> claim_keys(const std::vector<model::claim>& claims) {
  std::vector<claim_key> keys;
  for (const auto& c : claims) keys.emplace_back(c.id, c.subscriber.member_id);
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool same_patient(std::string_view a, std::string_view b) {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  a = trim(a);
  b = trim(b);
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// Splits `input` and checks every part reads cleanly, holds one patient's claims only, and that
// the parts together hold the input's claims, each once.
void check_split(const std::string& input, const reader_options& options = {}) {
  const auto whole = test::read(input, 0, options);
  split_options split;
  split.reader = options;
  const auto result = split_by_patient(input, split);
  REQUIRE_MESSAGE(result.ok(), result.error);
  std::vector<model::claim> claims;
  for (const auto& part : result.parts) {
    const auto sink = test::read(part.interchange, 0, options);
    CHECK_MESSAGE(reads_cleanly(sink), std::string(findings(sink) + part.interchange));
    CHECK(!part.source_sets.empty());
    CHECK(std::is_sorted(part.source_sets.begin(), part.source_sets.end()));
    for (const auto& c : sink.claims) {
      CHECK(same_patient(c.subscriber.member_id, part.patient_key));
      claims.push_back(c);
    }
  }
  CHECK(claim_keys(claims) == claim_keys(whole.claims));
}

const std::vector<group_spec> mixed_fixture = {
    // group 40: two sets
    {{{{"AAA111", {"C1", "C2"}}, {"BBB222", {"C3"}}}, {{"aaa111 ", {"C4"}, true}}},
     {{{"CCC333", {"C5"}}}, {{"BBB222", {"C6"}}, {"DDD444", {"C7", "C8"}, true}}}},
    // group 41: one set
    {{{{"DDD444", {"C9"}}, {"EEE555", {"C10"}}, {"AAA111", {"C11"}}}}},
};

}  // namespace

TEST_SUITE("x12.split_by_patient") {
  TEST_CASE("splits two patients with HLs renumbered and SE, GE and IEA recounted") {
    // Also with other delimiters and terminator: the rewritten segments use the input's.
    for (const bool other_delimiters : {false, true}) {
      CAPTURE(other_delimiters);
      const auto as_sent = [&](std::string text) {
        if (!other_delimiters) return text;
        for (char& c : text) {
          c = c == '*' ? '|' : c == ':' ? '>' : c == '~' ? '\'' : c == '\n' ? '\r' : c;
        }
        return text;
      };
      const std::string input = as_sent(
          "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
          "00501*000000777*0*T*:~\n"
          "GS*HC*SUBMITTER*RECEIVER*20260310*1200*40*X*005010X222A1~\n"
          "ST*837*0001*005010X222A1~\n"
          "BHT*0019*00*BATCH42*20260310*1200*CH~\n"
          "NM1*41*2*SUBMITTER*****46*S1~\n"
          "PER*IC*DESK*TE*5555550100~\n"
          "NM1*40*2*DME MAC*****46*R1~\n"
          "HL*1**20*1~\n"
          "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984~\n"
          "N3*100 MAIN ST~\n"
          "N4*COLUMBUS*OH*43004~\n"
          "REF*EI*311234567~\n"
          "HL*2*1*22*0~\n"
          "SBR*P*18*******MB~\n"
          "NM1*IL*1*DOE*JANE****MI*AAA111~\n"
          "NM1*PR*2*MEDICARE*****PI*16013~\n"
          "CLM*C1*50***12:B:1*Y*A*Y*Y~\n"
          "HI*ABK:E1065~\n"
          "LX*1~\n"
          "SV1*HC:A4224:KX*50*UN*1***1~\n"
          "DTP*472*D8*20260310~\n"
          "HL*3*1*22*1~\n"
          "SBR*P********MB~\n"
          "NM1*IL*1*ROE*RICHARD****MI*BBB222~\n"
          "NM1*PR*2*MEDICARE*****PI*16013~\n"
          "HL*4*3*23*0~\n"
          "PAT*19~\n"
          "NM1*QC*1*ROE*KID~\n"
          "N3*1 ELM ST~\n"
          "N4*COLUMBUS*OH*43004~\n"
          "DMG*D8*20100102*M~\n"
          "CLM*C2*50***12:B:1*Y*A*Y*Y~\n"
          "HI*ABK:E1065~\n"
          "LX*1~\n"
          "SV1*HC:A4224:KX*50*UN*1***1~\n"
          "DTP*472*D8*20260310~\n"
          "SE*35*0001~\n"
          "GE*1*40~\n"
          "IEA*1*000000777~\n");
      {
        const auto sink = test::read(input);
        REQUIRE_MESSAGE(reads_cleanly(sink), findings(sink));
      }
      split_options options;
      options.control_number = [](std::size_t part) { return "00000090" + std::to_string(part); };
      const auto result = split_by_patient(input, options);
      REQUIRE_MESSAGE(result.ok(), result.error);
      REQUIRE(result.parts.size() == 2);
      CHECK(result.parts[0].patient_key == "AAA111");
      CHECK(result.parts[0].source_sets == std::vector<std::size_t>{0});
      CHECK(
          result.parts[0].interchange ==
          as_sent(
              "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
              "00501*000000900*0*T*:~\n"
              "GS*HC*SUBMITTER*RECEIVER*20260310*1200*40*X*005010X222A1~\n"
              "ST*837*0001*005010X222A1~\n"
              "BHT*0019*00*BATCH42*20260310*1200*CH~\n"
              "NM1*41*2*SUBMITTER*****46*S1~\n"
              "PER*IC*DESK*TE*5555550100~\n"
              "NM1*40*2*DME MAC*****46*R1~\n"
              "HL*1**20*1~\n"
              "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984~\n"
              "N3*100 MAIN ST~\n"
              "N4*COLUMBUS*OH*43004~\n"
              "REF*EI*311234567~\n"
              "HL*2*1*22*0~\n"
              "SBR*P*18*******MB~\n"
              "NM1*IL*1*DOE*JANE****MI*AAA111~\n"
              "NM1*PR*2*MEDICARE*****PI*16013~\n"
              "CLM*C1*50***12:B:1*Y*A*Y*Y~\n"
              "HI*ABK:E1065~\n"
              "LX*1~\n"
              "SV1*HC:A4224:KX*50*UN*1***1~\n"
              "DTP*472*D8*20260310~\n"
              "SE*20*0001~\n"
              "GE*1*40~\n"
              "IEA*1*000000900~\n"));
      CHECK(result.parts[1].patient_key == "BBB222");
      CHECK(
          result.parts[1].interchange ==
          as_sent(
              "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
              "00501*000000901*0*T*:~\n"
              "GS*HC*SUBMITTER*RECEIVER*20260310*1200*40*X*005010X222A1~\n"
              "ST*837*0001*005010X222A1~\n"
              "BHT*0019*00*BATCH42*20260310*1200*CH~\n"
              "NM1*41*2*SUBMITTER*****46*S1~\n"
              "PER*IC*DESK*TE*5555550100~\n"
              "NM1*40*2*DME MAC*****46*R1~\n"
              "HL*1**20*1~\n"
              "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984~\n"
              "N3*100 MAIN ST~\n"
              "N4*COLUMBUS*OH*43004~\n"
              "REF*EI*311234567~\n"
              "HL*2*1*22*1~\n"
              "SBR*P********MB~\n"
              "NM1*IL*1*ROE*RICHARD****MI*BBB222~\n"
              "NM1*PR*2*MEDICARE*****PI*16013~\n"
              "HL*3*2*23*0~\n"
              "PAT*19~\n"
              "NM1*QC*1*ROE*KID~\n"
              "N3*1 ELM ST~\n"
              "N4*COLUMBUS*OH*43004~\n"
              "DMG*D8*20100102*M~\n"
              "CLM*C2*50***12:B:1*Y*A*Y*Y~\n"
              "HI*ABK:E1065~\n"
              "LX*1~\n"
              "SV1*HC:A4224:KX*50*UN*1***1~\n"
              "DTP*472*D8*20260310~\n"
              "SE*26*0001~\n"
              "GE*1*40~\n"
              "IEA*1*000000901~\n"));
    }
  }

  TEST_CASE("every accepted sample splits into parts the reader accepts, with all its claims") {
    const auto dir = std::filesystem::path(COVGATE_SOURCE_DIR) / "samples/inputs/x12";
    int accepted = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      CAPTURE(entry.path().filename().string());
      const std::string input = read_file(entry.path());
      const auto whole = test::read(input);
      const auto result = split_by_patient(input);
      if (!whole.interchanges.empty() && whole.interchanges[0].any_accepted() &&
          whole.sets.size() == 1 && !whole.sets[0].rejected) {
        ++accepted;
        check_split(input);
      } else {
        CHECK(result.error.find("rejected by the 837 reader") != std::string::npos);
        CHECK(!result.ok());
        CHECK(result.parts.empty());
      }
    }
    CHECK(accepted >= 2);
  }

  TEST_CASE("a mixed interchange (groups, sets, dependents, CRLF) splits by member id") {
    for (const std::string line_break : {"", "\n", "\r\n"}) {
      CAPTURE(line_break.size());
      const std::string input = build_interchange(mixed_fixture, line_break);
      {
        const auto sink = test::read(input);
        REQUIRE_MESSAGE(reads_cleanly(sink), findings(sink));
      }
      check_split(input);
      const auto result = split_by_patient(input);
      REQUIRE(result.parts.size() == 5);
      // "aaa111 " is AAA111: one part, keyed as first written.
      CHECK(result.parts[0].patient_key == "AAA111");
      CHECK(result.parts[0].source_sets == std::vector<std::size_t>{0, 2});
      CHECK(result.parts[1].patient_key == "BBB222");
      CHECK(result.parts[1].source_sets == std::vector<std::size_t>{0, 1});
      CHECK(result.parts[3].patient_key == "DDD444");
      CHECK(result.parts[3].source_sets == std::vector<std::size_t>{1, 2});
      // Two groups in, two groups out for a patient in both; the line breaks are the input's.
      const auto& a = result.parts[0].interchange;
      CHECK(a.find("GE*1*40~" + line_break + "GS*") != std::string::npos);
      CHECK(a.ends_with("IEA*2*000000001~" + line_break));
      CHECK(result.parts[2].interchange.find("IEA*1*000000003~") != std::string::npos);
      // DDD444: set 1 of group 40 and set 2 of group 41, each under its own GS and GE.
      const auto& d = result.parts[3].interchange;
      CHECK(d.find("GS*HC*SUBMITTER*RECEIVER*20260310*1200*40*") != std::string::npos);
      CHECK(d.find("GE*1*40~") != std::string::npos);
      CHECK(d.find("GS*HC*SUBMITTER*RECEIVER*20260310*1200*41*") != std::string::npos);
      CHECK(d.find("GE*1*41~") != std::string::npos);
      CHECK(d.find("ST*837*0002*") != std::string::npos);
      CHECK(d.find("ST*837*0003*") != std::string::npos);
      CHECK(d.find("ST*837*0001*") == std::string::npos);
      CHECK(d.ends_with("IEA*2*000000004~" + line_break));
    }
  }

  TEST_CASE("a large generated interchange splits with every claim in exactly one part") {
    std::vector<group_spec> groups(2);
    int claim = 0;
    for (int g = 0; g < 2; ++g) {
      for (int s = 0; s < 5; ++s) {
        set_spec set(3);
        for (int p = 0; p < 3; ++p) {
          for (int m = 0; m < 4; ++m) {
            const int member = (g * 7 + s * 3 + p * 5 + m) % 11;  // patients recur across sets
            set[p].push_back(
                {"M" + std::to_string(member), {"K" + std::to_string(++claim)}, member % 3 == 0});
          }
        }
        groups[g].push_back(set);
      }
    }
    const std::string input = build_interchange(groups);
    {
      const auto sink = test::read(input);
      REQUIRE_MESSAGE(reads_cleanly(sink), findings(sink));
    }
    check_split(input);
    CHECK(split_by_patient(input).parts.size() == 11);
  }

  TEST_CASE("a covgate-gen interchange (50 claims, 837P and 837I, 10 per set) splits cleanly") {
    // Written by `covgate-gen --claims 50 --kind mixed --claims-per-set 10` (seed 837).
    const std::string input = read_file(std::filesystem::path(COVGATE_SOURCE_DIR) /
                                        "tests/fixtures/x12/covgate-gen-50-mixed.x12");
    REQUIRE(input.size() > 1000);
    {
      const auto sink = test::read(input);
      REQUIRE_MESSAGE(reads_cleanly(sink), findings(sink));
      REQUIRE(sink.claims.size() == 50);
    }
    check_split(input);
  }

  TEST_CASE("HLs that do not count from 1 (read with leniency hl-chain) come out counted") {
    std::string input = build_interchange(mixed_fixture);
    for (const auto& [from, to] :
         {std::pair{"HL*1**20*1~", "HL*7**20*1~"}, std::pair{"HL*2*1*22*0~", "HL*9*7*22*0~"}}) {
      input.replace(input.find(from), std::string_view(from).size(), to);
    }
    reader_options lenient;
    lenient.lenient = leniency::hl_chain;
    const auto whole = test::read(input, 0, lenient);
    REQUIRE(!whole.sets.empty());
    CHECK(whole.sets[0].ack_code() == 'E');
    check_split(input, lenient);  // every part reads with no finding at all
  }

  TEST_CASE("refuses an interchange the reader rejects, naming a position and no data") {
    std::string input = build_interchange(mixed_fixture);
    const auto at = input.find("SE*");
    input.replace(at, input.find('*', at + 3) - at, "SE*3");  // a wrong SE01
    const auto result = split_by_patient(input);
    CHECK(!result.ok());
    CHECK(result.parts.empty());
    CHECK(result.error ==
          "transaction set 0 (ST02 0001, ST at segment 3 (byte offset 165, line 3)) was rejected "
          "by the 837 reader: SE01 does not match the number of segments");
    CHECK(result.error.find("AAA111") == std::string::npos);
  }

  TEST_CASE("refuses a subscriber without a member id, naming a segment and no data") {
    // The reader already rejects a 2010BA with no NM108/NM109; either refusal names a position.
    std::string input = build_interchange(mixed_fixture);
    const std::string name = "NM1*IL*1*DOE*JANE****MI*CCC333";
    input.replace(input.find(name), name.size(), "NM1*IL*2*ACME");
    const auto result = split_by_patient(input);
    CHECK(!result.ok());
    CHECK(result.error.find("segment 74 (byte offset") != std::string::npos);
    CHECK(result.error.find("ACME") == std::string::npos);
  }

  TEST_CASE("refuses two interchanges and input with none") {
    const std::string one = build_interchange(mixed_fixture);
    CHECK(!split_by_patient(one + one).ok());
    CHECK(!split_by_patient("").ok());
    CHECK(!split_by_patient("hello").ok());
  }

  TEST_CASE("refuses a control number that is not nine digits") {
    split_options options;
    options.control_number = [](std::size_t) { return std::string("12345"); };
    const auto result = split_by_patient(build_interchange(mixed_fixture), options);
    CHECK(!result.ok());
    CHECK(result.parts.empty());
    CHECK_MESSAGE(result.error.find("nine digits") != std::string::npos, result.error);
  }

  TEST_CASE("an interchange with an empty group yields no parts and no error") {
    const std::string input =
        "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
        "00501*000000777*0*T*:~GS*HC*SUBMITTER*RECEIVER*20260310*1200*40*X*005010X222A1~"
        "GE*0*40~IEA*1*000000777~";
    const auto result = split_by_patient(input);
    if (result.ok()) CHECK(result.parts.empty());
  }
}
