// covgate-gen: a seeded generator of realistic 837P/837I interchanges for benchmarks and
// streaming tests. Same seed and options, same bytes. Every output passes strict envelope
// and loop checks (counts are computed, not guessed).
//
//   covgate-gen [--claims N | --bytes N] [--seed S] [--kind P|I|mixed]
//               [--claims-per-set N] [--out FILE]
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct line_template {
  std::string_view code;
  std::string_view modifiers;  // ":KX:NU" style, appended to the procedure composite
  std::string_view revenue;    // 837I revenue code
  std::string_view charge;
};

// A mix that exercises every class of POLICY.md §2 plus everyday non-pump lines.
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
      seg("NM1*IL*1*" + std::string(pick(last_names)) + "*" + std::string(pick(first_names)) +
          "****MI*" + mbi());
      seg("N3*" + std::to_string(between(1, 9999)) + " OAK AVE");
      seg("N4*DAYTON*OH*45402");
      char dob[16];
      std::snprintf(dob, sizeof dob, "19%02d%02d%02d", between(30, 60), between(1, 12),
                    between(1, 28));
      seg(std::string("DMG*D8*") + dob + (between(0, 1) ? "*F" : "*M"));
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
        seg("HI*ABK:" + std::string(pick(diagnoses)) + "*ABF:" + std::string(pick(diagnoses)));
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
  std::mt19937_64 rng_;
  char kind_;
};

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t claims = 1000;
  std::uint64_t bytes = 0;
  std::uint64_t seed = 837;
  std::uint32_t per_set = 1000;
  char kind = 'P';
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "covgate-gen: " << arg << " needs a value\n";
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
      else {
        std::cerr << "covgate-gen: unknown option " << arg << "\n";
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
  generator gen(seed, kind);
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
      }
    }
    text += "GE*" + std::to_string(sets) + "*" + std::to_string(interchange) + "~\n";
    text += "IEA*1*" + std::string(control) + "~\n";
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    written += text.size();
    text.clear();
  }
  return out ? 0 : 1;
}
