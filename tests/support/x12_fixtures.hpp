// Small, valid 837 interchanges built in code (so their counts are right by construction),
// with hooks to break one thing at a time.
#pragma once

#include <string>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/interchange_reader.hpp"

namespace covgate::test {

/// The body segments (between ST and SE) of a one-claim 837P set for an insulin pump.
inline std::vector<std::string> professional_body() {
  return {
      "BHT*0019*00*BATCH42*20260310*1200*CH",
      "NM1*41*2*SUBMITTER*****46*S1",
      "PER*IC*DESK*TE*5555550100",
      "NM1*40*2*DME MAC*****46*R1",
      "HL*1**20*1",
      "PRV*BI*PXC*332B00000X",
      "NM1*85*2*HOMECARE SUPPLY*****XX*1999999984",
      "N3*100 MAIN ST",
      "N4*COLUMBUS*OH*43004",
      "REF*EI*311234567",
      "HL*2*1*22*0",
      "SBR*P*18*******MB",
      "NM1*IL*1*DOE*JANE****MI*1EG4TE5MK73",
      "DMG*D8*19500102*F",
      "NM1*PR*2*MEDICARE*****PI*16013",
      "CLM*PUMP001*5000***12:B:1*Y*A*Y*Y",
      "REF*G1*PA12345",
      "HI*ABK:E1065*ABF:E1649",
      "NM1*82*1*WELBY*MARCUS****XX*1234567893",
      "PRV*PE*PXC*207RE0101X",
      "LX*1",
      "SV1*HC:E0784:KX:NU*4821.55*UN*1*12**1",
      "DTP*472*D8*20260310",
      "REF*6R*PUMP001L1",
      "NM1*DK*1*ORDER*ANN****XX*1234567891",
      "LX*2",
      "SV1*HC:A4224:KX*28.40*UN*2***1",
      "DTP*472*RD8*20260310-20260409",
  };
}

/// One interchange holding one group holding `sets` copies of a set with `body`.
inline std::string interchange(const std::vector<std::string>& body, int sets = 1,
                               const std::string& isa13 = "000000101",
                               const std::string& guide = "005010X222A1") {
  std::string out =
      "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260310*1200*^*"
      "00501*" +
      isa13 + "*1*T*:~\n";
  out += "GS*HC*SUBMITTER*RECEIVER*20260310*1200*42*X*" + guide + "~\n";
  for (int s = 1; s <= sets; ++s) {
    const std::string control = "000" + std::to_string(s);
    out += "ST*837*" + control + "*" + guide + "~\n";
    for (const auto& segment : body) out += segment + "~\n";
    out += "SE*" + std::to_string(body.size() + 2) + "*" + control + "~\n";
  }
  out += "GE*" + std::to_string(sets) + "*42~\n";
  out += "IEA*1*" + isa13 + "~\n";
  return out;
}

/// Collects everything a reader says.
struct collecting_sink final : x12::reader_sink {
  std::vector<model::claim> claims;
  std::vector<x12::set_result> sets;
  std::vector<x12::interchange_result> interchanges;
  void on_claim(const model::claim& c) override { claims.push_back(c); }
  void on_set_end(const x12::set_result& s) override { sets.push_back(s); }
  void on_interchange_end(const x12::interchange_result& r) override { interchanges.push_back(r); }
};

/// Reads `text` whole (chunk = 0) or in chunks of `chunk` bytes.
inline collecting_sink read(const std::string& text, std::size_t chunk = 0,
                            x12::reader_options options = {}) {
  collecting_sink sink;
  x12::interchange_reader reader(sink, options);
  if (chunk == 0) {
    reader.put(text);
  } else {
    for (std::size_t at = 0; at < text.size(); at += chunk) {
      reader.put(std::string_view(text).substr(at, chunk));
    }
  }
  reader.finish();
  return sink;
}

}  // namespace covgate::test
