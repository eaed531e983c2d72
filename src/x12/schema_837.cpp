#include "schema_837.hpp"

#include <array>

namespace covgate::x12::schema {
namespace {

constexpr bool R = true;
constexpr bool S = false;

template <std::size_t N>
requires(N <= max_loop_entries) using entries = std::array<entry, N>;

// ---- loops shared by both guides ------------------------------------------------------------

// A provider or party loop: NM1 and its name, address, ids and contact.
constexpr entries<8> party_body(std::string_view qualifiers) {
  return {{{"NM1", qualifiers, 1, R, 1},
           {"PRV", "", 1, S, 1},
           {"N2", "", 1, S, 1},
           {"N3", "", 1, S, 1},
           {"N4", "", 1, S, 1},
           {"DMG", "", 1, S, 1},
           {"REF", "", 1, S, 20},
           {"PER", "", 1, S, 2}}};
}

constexpr entries<2> submitter_body{{{"NM1", "41", 1, R, 1}, {"PER", "IC", 1, R, 2}}};
constexpr loop_def submitter{loop::submitter_1000a, submitter_body};
constexpr entries<1> receiver_body{{{"NM1", "40", 1, R, 1}}};
constexpr loop_def receiver{loop::receiver_1000b, receiver_body};

constexpr entries<6> billing_provider_body{{{"NM1", "85", 1, R, 1},
                                            {"N3", "", 1, R, 1},
                                            {"N4", "", 1, R, 1},
                                            {"REF", "EI,SY", 1, R, 1},
                                            {"REF", "0B,1G,G2,LU,1J,1A,1C,1D,1H", 1, S, 2},
                                            {"PER", "IC", 1, S, 2}}};
constexpr loop_def billing_provider{loop::billing_provider_2010aa, billing_provider_body};
constexpr auto pay_to_body = party_body("87");
constexpr loop_def pay_to{loop::pay_to_2010ab, pay_to_body};
constexpr auto pay_to_plan_body = party_body("PE");
constexpr loop_def pay_to_plan{loop::pay_to_plan_2010ac, pay_to_plan_body};

constexpr entries<6> subscriber_name_body{{{"NM1", "IL", 1, R, 1},
                                           {"N3", "", 1, S, 1},
                                           {"N4", "", 1, S, 1},
                                           {"DMG", "", 1, S, 1},
                                           {"REF", "", 1, S, 2},
                                           {"PER", "", 1, S, 1}}};
constexpr loop_def subscriber_name{loop::subscriber_name_2010ba, subscriber_name_body};
constexpr entries<4> payer_body{
    {{"NM1", "PR", 1, R, 1}, {"N3", "", 1, S, 1}, {"N4", "", 1, S, 1}, {"REF", "", 1, S, 5}}};
constexpr loop_def payer{loop::payer_2010bb, payer_body};
constexpr entries<6> patient_name_body{{{"NM1", "QC", 1, R, 1},
                                        {"N3", "", 1, R, 1},
                                        {"N4", "", 1, R, 1},
                                        {"DMG", "", 1, R, 1},
                                        {"REF", "", 1, S, 2},
                                        {"PER", "", 1, S, 1}}};
constexpr loop_def patient_name{loop::patient_name_2010ca, patient_name_body};

// Other subscriber (2320) and its parties (2330A-G): carried through, not mapped.
constexpr auto other_party_body = party_body("IL,PR,DN,P3,82,77,DQ,85,72,ZZ,71,QB,45");
constexpr loop_def other_party{loop::other_subscriber_party_2330, other_party_body};
constexpr entries<7> other_subscriber_body{
    {{"SBR", "", 1, R, 1},
     {"CAS", "", 1, S, 5},
     {"AMT", "", 1, S, 3},
     {"OI", "", 1, R, 1},
     {"MIA", "", 1, S, 1},
     {"MOA", "", 1, S, 1},
     {"NM1", "IL,PR,DN,P3,82,77,DQ,85,72,ZZ,71,QB,45", 1, R, 10, &other_party}}};
constexpr loop_def other_subscriber{loop::other_subscriber_2320, other_subscriber_body};

constexpr entries<3> drug_body{{{"LIN", "", 1, R, 1}, {"CTP", "", 1, R, 1}, {"REF", "", 1, S, 1}}};
constexpr loop_def drug{loop::drug_2410, drug_body};
constexpr entries<5> adjudication_body{{{"SVD", "", 1, R, 1},
                                        {"CAS", "", 1, S, 5},
                                        {"DTP", "573", 1, R, 1},
                                        {"AMT", "", 1, S, 1},
                                        {"REF", "", 1, S, 1}}};
constexpr loop_def adjudication{loop::line_adjudication_2430, adjudication_body};
constexpr entries<2> form_body{{{"LQ", "", 1, R, 1}, {"FRM", "", 1, R, 99}}};
constexpr loop_def form{loop::form_2440, form_body};

constexpr auto line_provider_body = party_body("QB,77,DQ,DN,P3,PE,45,72,ZZ,71,DK");
constexpr loop_def line_provider{loop::line_provider_2420, line_provider_body};
constexpr auto line_rendering_body = party_body("82");
constexpr loop_def line_rendering{loop::line_rendering_2420a, line_rendering_body};
constexpr auto ordering_body = party_body("DK");
constexpr loop_def ordering{loop::ordering_2420e, ordering_body};

constexpr auto claim_provider_body = party_body("DN,P3,77,DQ,PW,45,72,ZZ,DK");
constexpr loop_def claim_provider{loop::claim_provider_2310, claim_provider_body};
constexpr auto rendering_body = party_body("82");
constexpr loop_def rendering{loop::rendering_2310b, rendering_body};
constexpr auto attending_body = party_body("71");
constexpr loop_def attending{loop::attending_2310a, attending_body};

// ---- 837P -----------------------------------------------------------------------------------

constexpr entries<28> professional_line_body{{
    {"LX", "", 1, R, 1},
    {"SV1", "", 1, R, 1},
    {"SV5", "", 1, S, 1},
    {"PWK", "", 1, S, 10},
    {"CR1", "", 1, S, 1},
    {"CR3", "", 1, S, 1},
    {"CRC", "", 1, S, 3},
    {"DTP", "", 1, S, 12},
    {"QTY", "", 1, S, 2},
    {"MEA", "", 1, S, 5},
    {"CN1", "", 1, S, 1},
    {"REF", "", 1, S, 20},
    {"AMT", "", 1, S, 2},
    {"K3", "", 1, S, 10},
    {"NTE", "", 1, S, 2},
    {"PS1", "", 1, S, 1},
    {"HCP", "", 1, S, 1},
    {"LIN", "", 1, S, 1, &drug},
    {"NM1", "82", 1, S, 1, &line_rendering},
    {"NM1", "QB", 1, S, 1, &line_provider},
    {"NM1", "77", 1, S, 1, &line_provider},
    {"NM1", "DQ", 1, S, 1, &line_provider},
    {"NM1", "DK", 1, S, 1, &ordering},
    {"NM1", "DN,P3", 1, S, 2, &line_provider},
    {"NM1", "PW", 1, S, 1, &line_provider},
    {"NM1", "45", 1, S, 1, &line_provider},
    {"SVD", "", 1, S, 15, &adjudication},
    {"LQ", "", 1, S, 0, &form},
}};
constexpr loop_def professional_line{loop::line_2400, professional_line_body};

constexpr entries<21> professional_claim_body{{
    {"CLM", "", 1, R, 1},
    {"DTP", "", 1, S, 20},
    {"PWK", "", 1, S, 10},
    {"CN1", "", 1, S, 1},
    {"AMT", "", 1, S, 1},
    {"REF", "", 1, S, 20},
    {"K3", "", 1, S, 10},
    {"NTE", "", 1, S, 1},
    {"CR1", "", 1, S, 1},
    {"CR2", "", 1, S, 1},
    {"CRC", "", 1, S, 8},
    {"HI", "", 1, R, 4},
    {"HCP", "", 1, S, 1},
    {"NM1", "DN,P3", 1, S, 2, &claim_provider},
    {"NM1", "82", 1, S, 1, &rendering},
    {"NM1", "77", 1, S, 1, &claim_provider},
    {"NM1", "DQ", 1, S, 1, &claim_provider},
    {"NM1", "PW", 1, S, 1, &claim_provider},
    {"NM1", "45", 1, S, 1, &claim_provider},
    {"SBR", "", 1, S, 10, &other_subscriber},
    {"LX", "", 1, R, 50, &professional_line},
}};
constexpr loop_def professional_claim{loop::claim_2300, professional_claim_body};

// ---- 837I -----------------------------------------------------------------------------------

constexpr entries<14> institutional_line_body{{
    {"LX", "", 1, R, 1},
    {"SV2", "", 1, R, 1},
    {"PWK", "", 1, S, 10},
    {"DTP", "", 1, S, 1},
    {"AMT", "", 1, S, 2},
    {"HCP", "", 1, S, 1},
    {"REF", "", 1, S, 20},
    {"NTE", "", 1, S, 1},
    {"LIN", "", 1, S, 1, &drug},
    {"NM1", "72", 1, S, 1, &line_provider},
    {"NM1", "ZZ", 1, S, 1, &line_provider},
    {"NM1", "82", 1, S, 1, &line_rendering},
    {"NM1", "DN", 1, S, 1, &line_provider},
    {"SVD", "", 1, S, 15, &adjudication},
}};
constexpr loop_def institutional_line{loop::line_2400, institutional_line_body};

constexpr entries<21> institutional_claim_body{{
    {"CLM", "", 1, R, 1},
    {"DTP", "", 1, S, 20},
    {"CL1", "", 1, S, 1},
    {"PWK", "", 1, S, 10},
    {"CN1", "", 1, S, 1},
    {"AMT", "", 1, S, 1},
    {"REF", "", 1, S, 20},
    {"K3", "", 1, S, 10},
    {"NTE", "", 1, S, 10},
    {"CR6", "", 1, S, 1},
    {"CRC", "", 1, S, 8},
    {"HI", "", 1, R, 40},
    {"HCP", "", 1, S, 1},
    {"NM1", "71", 1, S, 1, &attending},
    {"NM1", "72", 1, S, 1, &claim_provider},
    {"NM1", "ZZ", 1, S, 1, &claim_provider},
    {"NM1", "82", 1, S, 1, &rendering},
    {"NM1", "77", 1, S, 1, &claim_provider},
    {"NM1", "DN", 1, S, 1, &claim_provider},
    {"SBR", "", 1, S, 10, &other_subscriber},
    {"LX", "", 1, R, 999, &institutional_line},
}};
constexpr loop_def institutional_claim{loop::claim_2300, institutional_claim_body};

// ---- hierarchy (same shape in both guides, different claim loop) ----------------------------

template <const loop_def& Claim>
struct hierarchy {
  static constexpr entries<4> patient_body{{{"HL", "23", 3, R, 1},
                                            {"PAT", "", 1, R, 1},
                                            {"NM1", "QC", 1, R, 1, &patient_name},
                                            {"CLM", "", 1, R, 100, &Claim}}};
  static constexpr loop_def patient{loop::patient_2000c, patient_body};
  static constexpr entries<7> subscriber_body{{{"HL", "22", 3, R, 1},
                                               {"SBR", "", 1, R, 1},
                                               {"PAT", "", 1, S, 1},
                                               {"NM1", "IL", 1, R, 1, &subscriber_name},
                                               {"NM1", "PR", 1, R, 1, &payer},
                                               {"CLM", "", 1, S, 100, &Claim},
                                               {"HL", "23", 3, S, 0, &patient}}};
  static constexpr loop_def subscriber{loop::subscriber_2000b, subscriber_body};
  static constexpr entries<7> billing_body{{{"HL", "20", 3, R, 1},
                                            {"PRV", "", 1, S, 1},
                                            {"CUR", "", 1, S, 1},
                                            {"NM1", "85", 1, R, 1, &billing_provider},
                                            {"NM1", "87", 1, S, 1, &pay_to},
                                            {"NM1", "PE", 1, S, 1, &pay_to_plan},
                                            {"HL", "22", 3, R, 0, &subscriber}}};
  static constexpr loop_def billing{loop::billing_2000a, billing_body};
  static constexpr entries<7> root_body{{{"ST", "", 1, R, 1},
                                         {"BHT", "", 1, R, 1},
                                         {"REF", "", 1, S, 1},
                                         {"NM1", "41", 1, R, 1, &submitter},
                                         {"NM1", "40", 1, R, 1, &receiver},
                                         {"HL", "20", 3, R, 0, &billing},
                                         {"SE", "", 1, R, 1}}};
  static constexpr loop_def root{loop::header, root_body};
};

}  // namespace

const loop_def& professional_root() noexcept { return hierarchy<professional_claim>::root; }
const loop_def& institutional_root() noexcept { return hierarchy<institutional_claim>::root; }

std::string_view loop_name(loop id, bool institutional) noexcept {
  switch (id) {
    case loop::header:
      return "";
    case loop::submitter_1000a:
      return "1000A";
    case loop::receiver_1000b:
      return "1000B";
    case loop::billing_2000a:
      return "2000A";
    case loop::billing_provider_2010aa:
      return "2010AA";
    case loop::pay_to_2010ab:
      return "2010AB";
    case loop::pay_to_plan_2010ac:
      return "2010AC";
    case loop::subscriber_2000b:
      return "2000B";
    case loop::subscriber_name_2010ba:
      return "2010BA";
    case loop::payer_2010bb:
      return "2010BB";
    case loop::patient_2000c:
      return "2000C";
    case loop::patient_name_2010ca:
      return "2010CA";
    case loop::claim_2300:
      return "2300";
    case loop::claim_provider_2310:
      return "2310";
    case loop::attending_2310a:
      return "2310A";
    case loop::rendering_2310b:
      return institutional ? "2310D" : "2310B";
    case loop::other_subscriber_2320:
      return "2320";
    case loop::other_subscriber_party_2330:
      return "2330";
    case loop::line_2400:
      return "2400";
    case loop::drug_2410:
      return "2410";
    case loop::line_provider_2420:
      return "2420";
    case loop::line_rendering_2420a:
      return institutional ? "2420C" : "2420A";
    case loop::ordering_2420e:
      return "2420E";
    case loop::line_adjudication_2430:
      return "2430";
    case loop::form_2440:
      return "2440";
  }
  return "";
}

}  // namespace covgate::x12::schema
