// covgate-gen: a seeded generator of realistic 837P/837I interchanges for benchmarks and
// streaming tests. Same seed and options, same bytes. Every output passes strict envelope
// and loop checks (counts are computed, not guessed).
//
//   covgate-gen [--claims N | --bytes N] [--seed S] [--kind P|I|mixed]
//               [--claims-per-set N] [--out FILE]
//               [--facts-before FILE --facts-after FILE [--documented PERCENT]]
//               [--patients N [--zipf S]]
//
// --patients N draws every claim's member from N members (rank k with weight 1/k^S; S = 0,
// the default, is uniform), each with one clinical record (at its first claim), so one member
// can carry thousands of claims: the skewed-patient benchmark. Without it every claim has a
// member of its own.
// With --facts-*, PERCENT of the patients (default 60) get their clinical record as FHIR
// NDJSON (Patient, the ordering physician, a visit, C-peptide with its fasting glucose,
// HbA1c and the docs/policy.md §8 evidence), dated from the claim's date of service; a third of
// those records go to the "after" file, so replaying before, claims, after shows claims held
// and later released the way a real day does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct line_template {
  std::string_view code;
  std::string_view modifiers;  // ":KX:NU" style, appended to the procedure composite
  std::string_view revenue;    // 837I revenue code
  std::string_view charge;
};

// A mix that exercises every class of docs/policy.md §2 plus everyday non-pump lines.
constexpr line_template pump_lines[] = {
    {"E0784", ":KX:NU", "0291", "4821.55"}, {"A4224", ":KX", "0272", "28.40"},
    {"A4230", ":KX", "0272", "112.00"},     {"J1817", ":KX", "0636", "96.10"},
    {"E0781", ":KX:RR", "0291", "310.00"},  {"J1644", "", "0636", "14.75"},
    {"J0895", "", "0636", "55.20"},         {"J9190", "", "0636", "12.30"},
    {"J2270", "", "0636", "9.80"},          {"E0783", ":KX", "0291", "11250.00"},
    {"E0784", ":GA", "0291", "4821.55"},    {"E0779", ":KX:RR", "0291", "140.00"},
};
constexpr line_template other_lines[] = {
    {"99213", "", "0510", "125.00"},
    {"A4253", ":KX", "0270", "38.00"},
    {"E0431", ":RR", "0291", "175.00"},
    {"82947", "", "0300", "12.00"},
};
constexpr std::string_view diagnoses[] = {"E1065", "E1165", "E109", "I2699", "T454X1A",
                                          "C220",  "G893",  "C787", "G8929", "E8310"};
constexpr std::string_view last_names[] = {"RIVERA", "NGUYEN", "SMITH", "OKAFOR", "MULLER",
                                           "TANAKA", "COHEN",  "SILVA", "HANSEN", "ROSSI"};
constexpr std::string_view first_names[] = {"ANA",  "MINH", "JOHN", "ADA",    "KARL",
                                            "YUKI", "SARA", "LUIS", "INGRID", "MARCO"};
constexpr std::string_view places[] = {"12", "12", "12", "11", "21", "31", "22", "13"};
constexpr std::string_view taxonomies[] = {"207RE0101X", "207R00000X", "363LF0000X", "363A00000X",
                                           "208D00000X"};

class generator {
 public:
  generator(std::uint64_t seed, char kind) : rng_(seed), kind_(kind) {}

  template <class T, std::size_t N>
  const T& pick(const T (&items)[N]) {
    return items[std::uniform_int_distribution<std::size_t>(0, N - 1)(rng_)];
  }
  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string mbi() {
    // Medicare Beneficiary Identifier layout: C A AN N A AN N A A N N (no S L O I B Z).
    constexpr std::string_view letters = "ACDEFGHJKMNPQRTUVWXY";
    constexpr std::string_view digits = "0123456789";
    auto letter = [&] { return letters[static_cast<std::size_t>(between(0, 19))]; };
    auto digit = [&] { return digits[static_cast<std::size_t>(between(0, 9))]; };
    auto alnum = [&] { return between(0, 1) ? letter() : digit(); };
    std::string id;
    id += digits[static_cast<std::size_t>(between(1, 9))];
    id += letter();
    id += alnum();
    id += digit();
    id += letter();
    id += alnum();
    id += digit();
    id += letter();
    id += letter();
    id += digit();
    id += digit();
    return id;
  }

  std::string date_2026() {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "2026%02d%02d", between(1, 11), between(1, 28));
    return buffer;
  }

  std::string npi() { return "1" + std::to_string(between(100000000, 999999999)); }

  /// Draws members from a pool of `count` with Zipf weights 1/rank^`exponent`.
  void set_patient_pool(std::uint64_t count, double exponent) {
    pool_.clear();
    cumulative_.clear();
    double total = 0;
    for (std::uint64_t rank = 1; rank <= count; ++rank) {
      pool_.push_back({mbi(), false});
      total += 1.0 / std::pow(static_cast<double>(rank), exponent);
      cumulative_.push_back(total);
    }
  }

  /// Where the clinical records go; null pointers turn facts off.
  void set_facts(std::string* before, std::string* after, int documented_percent) {
    facts_before_ = before;
    facts_after_ = after;
    documented_percent_ = documented_percent;
    // One ordering physician for everybody, on file before any visit names it.
    if (before) {
      *before +=
          R"({"resourceType":"Practitioner","id":"dr-gen","qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})"
          "\n";
    }
  }

  // Appends one transaction set with `claims` claims; returns its segment count.
  void transaction(std::string& out, std::uint32_t set_number, std::uint32_t claims,
                   std::uint64_t& claim_counter) {
    const bool institutional = kind_ == 'I' || (kind_ == 'M' && set_number % 2 == 0);
    std::uint32_t segments = 0;
    auto seg = [&](const std::string& text) {
      out += text;
      out += "~\n";
      ++segments;
    };
    char control[16];
    std::snprintf(control, sizeof control, "%04u", set_number);
    seg(std::string("ST*837*") + control + (institutional ? "*005010X223A2" : "*005010X222A1"));
    seg("BHT*0019*00*B" + std::to_string(set_number) + "*20261127*0930*CH");
    seg("NM1*41*2*COVGATE TEST SUBMITTER*****46*SUB0001");
    seg("PER*IC*EDI DESK*TE*5555550100");
    seg("NM1*40*2*MEDICARE DME MAC*****46*DMEMAC01");
    seg("HL*1**20*1");
    seg("PRV*BI*PXC*332B00000X");
    seg("NM1*85*2*HOMECARE SUPPLY CO*****XX*" + npi());
    seg("N3*100 MAIN ST");
    seg("N4*COLUMBUS*OH*43004");
    seg("REF*EI*311234567");
    std::uint32_t hl = 1;
    for (std::uint32_t c = 0; c < claims; ++c) {
      ++claim_counter;
      seg("HL*" + std::to_string(++hl) + "*1*22*0");
      seg("SBR*P*18*******MB");
      pooled_member* pooled = draw_member();
      const auto member = pooled ? pooled->id : mbi();
      seg("NM1*IL*1*" + std::string(pick(last_names)) + "*" + std::string(pick(first_names)) +
          "****MI*" + member);
      seg("N3*" + std::to_string(between(1, 9999)) + " OAK AVE");
      seg("N4*DAYTON*OH*45402");
      char dob[16];
      std::snprintf(dob, sizeof dob, "19%02d%02d%02d", between(30, 60), between(1, 12),
                    between(1, 28));
      const bool female = between(0, 1) == 1;
      seg(std::string("DMG*D8*") + dob + (female ? "*F" : "*M"));
      seg("NM1*PR*2*MEDICARE*****PI*" + std::string(between(0, 1) ? "15004" : "16013"));
      const int line_count = between(1, 4);
      std::vector<const line_template*> lines;
      for (int i = 0; i < line_count; ++i) {
        lines.push_back(between(0, 3) ? &pick(pump_lines) : &pick(other_lines));
      }
      const std::string dos = date_2026();
      const std::string claim_id = "CG" + std::to_string(claim_counter);
      if (institutional) {
        seg("CLM*" + claim_id + "*" + std::to_string(between(100, 9000)) + "***" +
            (between(0, 2) ? "13" : "11") + ":A:1**A*Y*Y");
        seg("DTP*434*RD8*" + dos + "-" + dos);
        seg("CL1*1*1*01");
        if (between(0, 2) == 0) seg("REF*G1*PA" + std::to_string(between(10000, 99999)));
        // 837I: the principal diagnosis has an HI of its own, other diagnoses another. (Drawn
        // other first, as the one-segment form did, so a seed still makes the same claims.)
        const std::string other(pick(diagnoses));
        const std::string principal(pick(diagnoses));
        seg("HI*ABK:" + principal);
        seg("HI*ABF:" + other);
        seg("NM1*71*1*WELBY*MARCUS****XX*" + npi());
        seg("PRV*AT*PXC*" + std::string(pick(taxonomies)));
      } else {
        seg("CLM*" + claim_id + "*" + std::to_string(between(100, 9000)) + "***" +
            std::string(pick(places)) + ":B:1*Y*A*Y*Y");
        if (between(0, 2) == 0) seg("REF*G1*PA" + std::to_string(between(10000, 99999)));
        seg("HI*ABK:" + std::string(pick(diagnoses)) + "*ABF:" + std::string(pick(diagnoses)));
        seg("NM1*82*1*WELBY*MARCUS****XX*" + npi());
        seg("PRV*PE*PXC*" + std::string(pick(taxonomies)));
      }
      // A pooled member's record comes once, with its first claim.
      const bool first_of_member = !pooled || !std::exchange(pooled->recorded, true);
      if (facts_before_ && first_of_member && between(1, 100) <= documented_percent_) {
        record(between(0, 2) == 0 ? *facts_after_ : *facts_before_, member, female, dob, dos);
      }
      int number = 0;
      for (const auto* line : lines) {
        seg("LX*" + std::to_string(++number));
        if (institutional) {
          seg("SV2*" + std::string(line->revenue) + "*HC:" + std::string(line->code) +
              std::string(line->modifiers) + "*" + std::string(line->charge) + "*UN*1");
        } else {
          seg("SV1*HC:" + std::string(line->code) + std::string(line->modifiers) + "*" +
              std::string(line->charge) + "*UN*1***1");
        }
        seg("DTP*472*D8*" + dos);
        seg("REF*6R*" + claim_id + "L" + std::to_string(number));
      }
    }
    seg("SE*" + std::to_string(segments + 1) + "*" + control);
  }

 private:
  struct pooled_member {
    std::string id;
    bool recorded;
  };

  pooled_member* draw_member() {
    if (pool_.empty()) return nullptr;
    const double u = std::uniform_real_distribution<double>(0, cumulative_.back())(rng_);
    const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    return &pool_[std::min<std::size_t>(static_cast<std::size_t>(at - cumulative_.begin()),
                                        pool_.size() - 1)];
  }

  // CCYYMMDD minus `days`, as FHIR's YYYY-MM-DD.
  static std::string fhir_date(const std::string& ccyymmdd, int days) {
    using namespace std::chrono;
    const year_month_day ymd{year{std::stoi(ccyymmdd.substr(0, 4))},
                             month{static_cast<unsigned>(std::stoi(ccyymmdd.substr(4, 2)))},
                             day{static_cast<unsigned>(std::stoi(ccyymmdd.substr(6, 2)))}};
    const year_month_day earlier{sys_days{ymd} - std::chrono::days{days}};
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(earlier.year()),
                  static_cast<unsigned>(earlier.month()), static_cast<unsigned>(earlier.day()));
    return buffer;
  }

  // One patient's clinical record, one resource per NDJSON line, dated before `dos`.
  void record(std::string& out, const std::string& member, bool female, const char* dob,
              const std::string& dos) {
    const std::string birth = std::string(dob).substr(0, 4) + "-" + std::string(dob).substr(4, 2) +
                              "-" + std::string(dob).substr(6, 2);
    const std::string subject =
        R"("subject":{"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":")" + member +
        R"("}})";
    out += R"({"resourceType":"Patient","id":"pt-)" + member +
           R"(","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":")" + member +
           R"("}],"gender":")" + (female ? "female" : "male") + R"(","birthDate":")" + birth +
           "\"}\n";
    out +=
        R"({"resourceType":"Encounter","id":"visit-)" + member +
        R"(","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/pt-)" +
        member +
        R"("},"participant":[{"individual":{"reference":"Practitioner/dr-gen"}}],"period":{"start":")" +
        fhir_date(dos, between(5, 60)) + "\"}}\n";
    auto evidence = [&](std::string_view id, std::string_view code, std::string value) {
      out += R"({"resourceType":"Observation","id":")" + std::string(id) + "-" + member +
             R"(","status":"final","code":{"coding":[{"system":"urn:covgate:evidence","code":")" +
             std::string(code) + R"("}]},)" + subject + R"(,"effectiveDateTime":")" +
             fhir_date(dos, 90) + "\"," + value + "}\n";
    };
    evidence("edu", "diabetes-education-completed", R"("valueBoolean":true)");
    evidence("mdi", "mdi-injections-per-day", R"("valueQuantity":{"value":4})");
    evidence("mdim", "mdi-duration-months", R"("valueQuantity":{"value":12})");
    evidence("smbg", "smbg-per-day", R"("valueQuantity":{"value":4})");
    auto lab = [&](std::string_view id, std::string_view loinc, const std::string& when,
                   const std::string& value, std::string_view unit, std::string_view extra) {
      out += R"({"resourceType":"Observation","id":")" + std::string(id) + "-" + member +
             R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
             std::string(loinc) + R"("}]},)" + subject + R"(,"effectiveDateTime":")" + when +
             R"(","valueQuantity":{"value":)" + value + R"(,"unit":")" + std::string(unit) +
             R"(","system":"http://unitsofmeasure.org","code":")" + std::string(unit) + "\"}" +
             std::string(extra) + "}\n";
    };
    const auto lab_day = fhir_date(dos, between(10, 80));
    // C-peptide between 40 % and 130 % of its LLN: most pass the 110 % rule, some do not.
    char cpep[16];
    std::snprintf(cpep, sizeof cpep, "%.2f", 0.8 * between(40, 130) / 100.0);
    lab("a1c", "4548-4", fhir_date(dos, between(10, 80)),
        std::to_string(between(70, 110) / 10) + "." + std::to_string(between(0, 9)), "%", "");
    lab("cpep", "13037-7", lab_day + "T08:00:00Z", cpep, "ng/mL",
        R"(,"referenceRange":[{"low":{"value":0.8,"unit":"ng/mL","system":"http://unitsofmeasure.org","code":"ng/mL"}}])");
    lab("glu", "1558-6", lab_day + "T07:50:00Z", std::to_string(between(90, 240)), "mg/dL", "");
  }

  std::mt19937_64 rng_;
  char kind_;
  std::string* facts_before_ = nullptr;
  std::string* facts_after_ = nullptr;
  int documented_percent_ = 60;
  std::vector<pooled_member> pool_;
  std::vector<double> cumulative_;  // running sum of the Zipf weights, by rank
};

constexpr std::string_view usage =
    "usage: covgate-gen [--claims N | --bytes N] [--seed S] [--kind P|I|mixed]\n"
    "                   [--claims-per-set N] [--out FILE]\n"
    "                   [--facts-before FILE --facts-after FILE [--documented PERCENT]]\n"
    "\n"
    "Writes seeded, realistic 837P/837I interchanges (same seed and options, same bytes).\n"
    "\n"
    "options:\n"
    "  --claims N            claims to write (default 1000)\n"
    "  --bytes N             or: write claims until the output reaches N bytes\n"
    "  --seed S              the random seed (default 837)\n"
    "  --kind P|I|mixed      professional, institutional or both (default P)\n"
    "  --claims-per-set N    claims per ST/SE transaction set (default 1000)\n"
    "  --out FILE            where the X12 goes (default stdout)\n"
    "  --facts-before FILE   FHIR NDJSON records replayed before the claims...\n"
    "  --facts-after FILE    ...and after them (a third of the records), so claims are\n"
    "                        held and later released\n"
    "  --documented PERCENT  patients with a clinical record (default 60)\n"
    "  -h, --help            this help\n";

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t claims = 1000;
  std::uint64_t bytes = 0;
  std::uint64_t seed = 837;
  std::uint32_t per_set = 1000;
  char kind = 'P';
  std::string out_path;
  std::string facts_before_path;
  std::string facts_after_path;
  int documented_percent = 60;
  std::uint64_t patients = 0;
  double zipf = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "covgate-gen: " << arg << " needs a value\n\n" << usage;
      return 2;
    }
    const std::string value = argv[++i];
    try {
      if (arg == "--claims")
        claims = std::stoull(value);
      else if (arg == "--bytes")
        bytes = std::stoull(value);
      else if (arg == "--seed")
        seed = std::stoull(value);
      else if (arg == "--claims-per-set")
        per_set = static_cast<std::uint32_t>(std::stoul(value));
      else if (arg == "--kind" && (value == "P" || value == "I" || value == "mixed"))
        kind = value == "mixed" ? 'M' : value[0];
      else if (arg == "--out")
        out_path = value;
      else if (arg == "--facts-before")
        facts_before_path = value;
      else if (arg == "--facts-after")
        facts_after_path = value;
      else if (arg == "--documented")
        documented_percent = std::stoi(value);
      else if (arg == "--patients")
        patients = std::stoull(value);
      else if (arg == "--zipf")
        zipf = std::stod(value);
      else {
        std::cerr << "covgate-gen: unknown option " << arg << "\n\n" << usage;
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "covgate-gen: " << arg << " takes a number\n";
      return 2;
    }
  }
  if (per_set == 0) per_set = 1;
  std::ofstream file;
  if (!out_path.empty()) file.open(out_path, std::ios::binary);
  std::ostream& out = out_path.empty() ? std::cout : file;
  if (facts_before_path.empty() != facts_after_path.empty()) {
    std::cerr << "covgate-gen: --facts-before and --facts-after go together\n";
    return 2;
  }
  generator gen(seed, kind);
  if (patients > 0) gen.set_patient_pool(patients, zipf);
  std::string facts_before;
  std::string facts_after;
  std::ofstream facts_before_file;
  std::ofstream facts_after_file;
  if (!facts_before_path.empty()) {
    facts_before_file.open(facts_before_path, std::ios::binary);
    facts_after_file.open(facts_after_path, std::ios::binary);
    gen.set_facts(&facts_before, &facts_after, documented_percent);
  }
  auto flush_facts = [&] {
    facts_before_file << facts_before;
    facts_after_file << facts_after;
    facts_before.clear();
    facts_after.clear();
  };
  std::uint64_t written = 0;
  std::uint64_t made = 0;
  std::uint32_t interchange = 0;
  std::string text;
  // One interchange per 100 sets keeps every envelope small while the stream is large.
  while (bytes ? written < bytes : made < claims) {
    ++interchange;
    char control[16];
    std::snprintf(control, sizeof control, "%09u", interchange);
    text =
        "ISA*00*          *00*          *ZZ*COVGATESUBMIT  *ZZ*DMEMAC01       *261127*0930*^*"
        "00501*" +
        std::string(control) + "*0*T*:~\n";
    text += "GS*HC*COVGATESUBMIT*DMEMAC01*20261127*0930*" + std::to_string(interchange) + "*X*" +
            std::string(kind == 'I' ? "005010X223A2" : "005010X222A1") + "~\n";
    std::uint32_t sets = 0;
    while (sets < 100 && (bytes ? written + text.size() < bytes : made < claims)) {
      std::uint32_t n = per_set;
      if (!bytes && claims - made < n) n = static_cast<std::uint32_t>(claims - made);
      // In mixed mode each set keeps one guide; GS08 only names the group's first.
      gen.transaction(text, ++sets, n, made);
      if (text.size() > (1u << 22)) {
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        written += text.size();
        text.clear();
        flush_facts();
      }
    }
    text += "GE*" + std::to_string(sets) + "*" + std::to_string(interchange) + "~\n";
    text += "IEA*1*" + std::string(control) + "~\n";
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    written += text.size();
    text.clear();
    flush_facts();
  }
  return out && (facts_before_path.empty() || (facts_before_file && facts_after_file)) ? 0 : 1;
}
