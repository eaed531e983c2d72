#include "schema_837.hpp"

#include <array>

namespace covgate::x12::schema {
namespace {

constexpr bool R = true;
constexpr bool S = false;

// A segment position with its element spec (compiled at build time); `qseg` when the loop
// holds several positions with this id, told apart by the code in element 1 (component 1 of
// a composite).
template <spec_text Spec>
constexpr entry seg(std::string_view id, bool required, std::uint16_t max) {
  return {id, required, max, compiled<Spec>::spec, Spec.view()};
}
template <spec_text Spec>
constexpr entry qseg(std::string_view id, bool required, std::uint16_t max) {
  return {id, required, max, compiled<Spec>::spec, Spec.view(), nullptr, match::qualifier};
}
// A nested loop, started by its first entry's segment (told apart by its element 1 codes
// when `how` says so: NM1 loops by their entity code).
constexpr entry nest(const loop_def& child, bool required, std::uint16_t max,
                     match how = match::qualifier) {
  const auto& first = child.entries[0];
  return {first.id, required, max, first.rules, first.elements, &child, how};
}

// Fills in group_first (runs of one id after the loop's own first segment) and next_required,
// and lays the entries' keys side by side.
template <std::size_t N>
requires(N <= max_loop_entries) constexpr loop_body<N> body(std::array<entry, N> e) {
  for (std::size_t i = 0; i < N; ++i) {
    e[i].group_first =
        static_cast<std::uint8_t>(i > 1 && e[i].id == e[i - 1].id ? e[i - 1].group_first : i);
  }
  auto next = static_cast<std::uint8_t>(N);
  for (std::size_t i = N; i-- > 0;) {
    if (e[i].required) next = static_cast<std::uint8_t>(i);
    e[i].next_required = next;
  }
  loop_body<N> out{e, {}};
  for (std::size_t i = 0; i < N; ++i) out.keys[i] = e[i].key;
  return out;
}

// ---- element specs used in many places --------------------------------------------------------

constexpr spec_text n3 = "R|S";
constexpr spec_text n4 = "R|S|S|S|N|N|S";
constexpr spec_text pwk =
    "R:03,04,05,06,07,08,09,10,11,13,15,21,A3,A4,AM,AS,B2,B3,B4,BR,BS,BT,CB,CK,CT,D2,DA,DB,DG,"
    "DJ,DS,EB,HC,HR,I5,IR,LA,M1,MT,NN,OB,OC,OD,OE,OX,OZ,P4,P5,PE,PN,PO,PQ,PY,PZ,RB,RR,RT,RX,SG,"
    "V5,XP|R:AA,BM,EL,EM,FT,FX|N|N|S:AC|S#50";
constexpr spec_text cn1 = "R:01,02,03,04,05,06,09|S|S|S|S|S";
constexpr spec_text k3 = "R";
constexpr spec_text cas = "R:CO,CR,OA,PI,PR|R|R|S*16";
constexpr spec_text moa = "S*9";
constexpr spec_text per_contact = "R:IC|S|R:EM,FX,TE|R|S:EM,EX,FX,TE|S|S:EM,EX,FX,TE|S";
constexpr spec_text per_phone = "R:IC|S|R:TE|R|S:EX|S";
constexpr spec_text line_ref_g1 = "R:G1|R|N|S(R:2U;R)";
constexpr spec_text line_ref_9f = "R:9F|R|N|S(R:2U;R)";
constexpr spec_text crc_ambulance =
    "R:07|R:N,Y|R:01,04,05,06,07,08,09,12|S:01,04,05,06,07,08,09,12*4";
constexpr spec_text cr1 = "S:LB|S|N|R:A,B,C,D,E|R:DH|R|N|N|S|S";
constexpr spec_text ctp = "N|N|N|R|R(R:F2,GR,ME,ML,UN)";
constexpr spec_text drug_ref = "R:VY,XZ|R";
constexpr spec_text remittance_date = "R:573|R:D8|R";
constexpr spec_text amt_eaf = "R:EAF|R";

// ---- header and billing provider levels --------------------------------------------------------

constexpr auto submitter_p_body = body(std::array{
    seg<"R:41|R:1,2|R|S|S|N|N|R:46|R">("NM1", R, 1),
    seg<"R:IC|S|R:ED,EM,FX,TE|R|S:ED,EM,EX,FX,TE|S|S:ED,EM,EX,FX,TE|S">("PER", R, 2),
});
constexpr loop_def submitter_p{loop::submitter_1000a, "1000A", submitter_p_body};
constexpr auto submitter_i_body = body(std::array{
    seg<"R:41|R:1,2|R|S|S|N|N|R:46|R">("NM1", R, 1),
    seg<per_contact>("PER", R, 2),
});
constexpr loop_def submitter_i{loop::submitter_1000a, "1000A", submitter_i_body};
constexpr auto receiver_body = body(std::array{seg<"R:40|R:2|R|N|N|N|N|R:46|R">("NM1", R, 1)});
constexpr loop_def receiver{loop::receiver_1000b, "1000B", receiver_body};

constexpr auto billing_provider_p_body = body(std::array{
    seg<"R:85|R:1,2|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    qseg<"R:EI,SY|R">("REF", R, 1),
    qseg<"R:0B,1G|R">("REF", S, 2),
    seg<per_contact>("PER", S, 2),
});
constexpr loop_def billing_provider_p{loop::billing_provider_2010aa, "2010AA",
                                      billing_provider_p_body};
constexpr auto billing_provider_i_body = body(std::array{
    seg<"R:85|R:2|R|N|N|N|N|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<"R:EI|R">("REF", R, 1),
    seg<per_contact>("PER", S, 2),
});
constexpr loop_def billing_provider_i{loop::billing_provider_2010aa, "2010AA",
                                      billing_provider_i_body};
constexpr auto pay_to_p_body = body(std::array{
    seg<"R:87|R:1,2">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def pay_to_p{loop::other, "2010AB", pay_to_p_body};
constexpr auto pay_to_i_body = body(std::array{
    seg<"R:87|R:2">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def pay_to_i{loop::other, "2010AB", pay_to_i_body};
constexpr auto pay_to_plan_body = body(std::array{
    seg<"R:PE|R:2|R|N|N|N|N|R:PI,XV|R">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    qseg<"R:2U,FY,NF|R">("REF", S, 1),
    qseg<"R:EI|R">("REF", R, 1),
});
constexpr loop_def pay_to_plan{loop::other, "2010AC", pay_to_plan_body};

// ---- subscriber and patient levels ---------------------------------------------------------

constexpr spec_text sbr_p =
    "R:A,B,C,D,E,F,G,H,P,S,T,U|S:18|S|S|S:12,13,14,15,16,41,42,43,47|N|N|N|"
    "S:11,12,13,14,15,16,17,AM,BL,CH,CI,DS,FI,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ";
constexpr spec_text sbr_i =
    "R:A,B,C,D,E,F,G,H,P,S,T,U|S:18|S|S|N|N|N|N|"
    "S:11,12,13,14,15,16,17,AM,BL,CH,CI,DS,FI,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ";
constexpr spec_text dmg = "R:D8|R|R:F,M,U";

constexpr auto subscriber_name_p_body = body(std::array{
    seg<"R:IL|R:1,2|R|S|S|N|S|R:II,MI|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<dmg>("DMG", S, 1),
    qseg<"R:SY|R">("REF", S, 1),
    qseg<"R:Y4|R">("REF", S, 1),
    seg<per_phone>("PER", S, 1),
});
constexpr loop_def subscriber_name_p{loop::subscriber_name_2010ba, "2010BA",
                                     subscriber_name_p_body};
constexpr auto subscriber_name_i_body = body(std::array{
    seg<"R:IL|R:1,2|R|S|S|N|S|S:II,MI|S">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<dmg>("DMG", S, 1),
    qseg<"R:SY|R">("REF", S, 1),
    qseg<"R:Y4|R">("REF", S, 1),
});
constexpr loop_def subscriber_name_i{loop::subscriber_name_2010ba, "2010BA",
                                     subscriber_name_i_body};
constexpr auto payer_p_body = body(std::array{
    seg<"R:PR|R:2|R|N|N|N|N|R:PI,XV|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    qseg<"R:2U,EI,FY,NF|R">("REF", S, 3),
    qseg<"R:G2,LU|R">("REF", S, 2),
});
constexpr loop_def payer_p{loop::payer_2010bb, "2010BB", payer_p_body};
constexpr auto payer_i_body = body(std::array{
    seg<"R:PR|R:2|R|N|N|N|N|R:PI,XV|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    qseg<"R:2U,EI,FY,NF|R">("REF", S, 3),
    qseg<"R:G2,LU|R">("REF", S, 1),
});
constexpr loop_def payer_i{loop::payer_2010bb, "2010BB", payer_i_body};

constexpr auto patient_name_p_body = body(std::array{
    seg<"R:QC|R:1|R|S|S|N|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<dmg>("DMG", R, 1),
    qseg<"R:Y4|R">("REF", S, 1),
    qseg<"R:1W,SY|R">("REF", S, 1),
    seg<per_phone>("PER", S, 1),
});
constexpr loop_def patient_name_p{loop::patient_name_2010ca, "2010CA", patient_name_p_body};
constexpr auto patient_name_i_body = body(std::array{
    seg<"R:QC|R:1|R|S|S|N|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<dmg>("DMG", R, 1),
    qseg<"R:Y4|R">("REF", S, 1),
    qseg<"R:1W,SY|R">("REF", S, 1),
});
constexpr loop_def patient_name_i{loop::patient_name_2010ca, "2010CA", patient_name_i_body};

// ---- 837P claim (2300) and its loops -----------------------------------------------------------

constexpr auto p_2310a_body = body(std::array{
    seg<"R:DN,P3|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2|R">("REF", S, 3),
});
constexpr loop_def p_2310a{loop::other, "2310A", p_2310a_body};
constexpr auto p_2310b_body = body(std::array{
    seg<"R:82|R:1,2|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:PE|R:PXC|R">("PRV", S, 1),
    seg<"R:0B,1G,G2,LU|R">("REF", S, 4),
});
constexpr loop_def p_2310b{loop::rendering_2310, "2310B", p_2310b_body};
constexpr auto p_2310c_body = body(std::array{
    seg<"R:77|R:2|R|N|N|N|N|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<"R:0B,G2,LU|R">("REF", S, 3),
    seg<per_phone>("PER", S, 1),
});
constexpr loop_def p_2310c{loop::other, "2310C", p_2310c_body};
constexpr auto p_2310d_body = body(std::array{
    seg<"R:DQ|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2,LU|R">("REF", S, 4),
});
constexpr loop_def p_2310d{loop::other, "2310D", p_2310d_body};
constexpr auto p_2310e_body = body(std::array{
    seg<"R:PW|R:2">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def p_2310e{loop::other, "2310E", p_2310e_body};
constexpr auto p_2310f_body = body(std::array{
    seg<"R:45|R:2|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def p_2310f{loop::other, "2310F", p_2310f_body};

// Other subscriber (2320) and its parties (2330A-G).
constexpr auto other_subscriber_name_p_body = body(std::array{
    seg<"R:IL|R:1,2|R|S|S|N|S|R:II,MI|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<"R:SY|R">("REF", S, 1),
});
constexpr loop_def p_2330a{loop::other, "2330A", other_subscriber_name_p_body};
constexpr auto other_payer_body = body(std::array{
    seg<"R:PR|R:2|R|N|N|N|N|R:PI,XV|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<remittance_date>("DTP", S, 1),
    qseg<"R:2U,EI,FY,NF|R">("REF", S, 2),
    qseg<"R:G1|R">("REF", S, 1),
    qseg<"R:9F|R">("REF", S, 1),
    qseg<"R:T4|R">("REF", S, 1),
    qseg<"R:F8|R">("REF", S, 1),
});
constexpr loop_def p_2330b{loop::other, "2330B", other_payer_body};
constexpr auto p_2330c_body = body(std::array{
    seg<"R:DN,P3|R:1">("NM1", R, 1),
    seg<"R:0B,1G,G2|R">("REF", R, 3),
});
constexpr loop_def p_2330c{loop::other, "2330C", p_2330c_body};
constexpr auto p_2330d_body = body(std::array{
    seg<"R:82|R:1,2">("NM1", R, 1),
    seg<"R:0B,1G,G2,LU|R">("REF", R, 3),
});
constexpr loop_def p_2330d{loop::other, "2330D", p_2330d_body};
constexpr auto p_2330e_body = body(std::array{
    seg<"R:77|R:2">("NM1", R, 1),
    seg<"R:0B,G2,LU|R">("REF", R, 3),
});
constexpr loop_def p_2330e{loop::other, "2330E", p_2330e_body};
constexpr auto p_2330f_body = body(std::array{
    seg<"R:DQ|R:1">("NM1", R, 1),
    seg<"R:0B,1G,G2,LU|R">("REF", R, 3),
});
constexpr loop_def p_2330f{loop::other, "2330F", p_2330f_body};
constexpr auto p_2330g_body = body(std::array{
    seg<"R:85|R:1,2">("NM1", R, 1),
    seg<"R:G2,LU|R">("REF", R, 2),
});
constexpr loop_def p_2330g{loop::other, "2330G", p_2330g_body};

constexpr auto p_2320_body = body(std::array{
    seg<"R:A,B,C,D,E,F,G,H,P,S,T,U|R:01,18,19,20,21,39,40,53,G8|S|S|"
        "S:12,13,14,15,16,41,42,43,47|N|N|N|"
        "S:11,12,13,14,15,16,17,AM,BL,CH,CI,DS,FI,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ">("SBR", R, 1),
    seg<cas>("CAS", S, 5),
    qseg<"R:D|R">("AMT", S, 1),
    qseg<"R:A8|R">("AMT", S, 1),
    qseg<"R:EAF|R">("AMT", S, 1),
    seg<"N|N|R:N,W,Y|S:P|N|R:I,Y">("OI", R, 1),
    seg<moa>("MOA", S, 1),
    nest(p_2330a, R, 1),
    nest(p_2330b, R, 1),
    nest(p_2330c, S, 2),
    nest(p_2330d, S, 1),
    nest(p_2330e, S, 1),
    nest(p_2330f, S, 1),
    nest(p_2330g, S, 1),
});
constexpr loop_def p_2320{loop::other, "2320", p_2320_body};

// Service line (2400) and its loops.
constexpr auto drug_p_body = body(std::array{
    seg<"N|R:EN,EO,HI,N4,ON,UK,UP|R">("LIN", R, 1),
    seg<ctp>("CTP", R, 1),
    seg<drug_ref>("REF", S, 1),
});
constexpr loop_def drug_p{loop::other, "2410", drug_p_body};
constexpr spec_text line_provider_ref = "R:0B,1G,G2,LU|R|N|S(R:2U;R)";
constexpr auto p_2420a_body = body(std::array{
    seg<"R:82|R:1,2|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:PE|R:PXC|R">("PRV", S, 1),
    seg<line_provider_ref>("REF", S, 20),
});
constexpr loop_def p_2420a{loop::line_rendering_2420, "2420A", p_2420a_body};
constexpr auto p_2420b_body = body(std::array{
    seg<"R:QB|R:1,2|N|N|N|N|N|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2|R|N|S(R:2U;R)">("REF", S, 20),
});
constexpr loop_def p_2420b{loop::other, "2420B", p_2420b_body};
constexpr auto p_2420c_body = body(std::array{
    seg<"R:77|R:2|R|N|N|N|N|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<"R:G2,LU|R|N|S(R:2U;R)">("REF", S, 3),
});
constexpr loop_def p_2420c{loop::other, "2420C", p_2420c_body};
constexpr auto p_2420d_body = body(std::array{
    seg<"R:DQ|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<line_provider_ref>("REF", S, 20),
});
constexpr loop_def p_2420d{loop::other, "2420D", p_2420d_body};
constexpr auto p_2420e_body = body(std::array{
    seg<"R:DK|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<"R:0B,1G,G2|R|N|S(R:2U;R)">("REF", S, 20),
    seg<per_contact>("PER", S, 1),
});
constexpr loop_def p_2420e{loop::ordering_2420e, "2420E", p_2420e_body};
constexpr auto p_2420f_body = body(std::array{
    seg<"R:DN,P3|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2|R|N|S(R:2U;R)">("REF", S, 20),
});
constexpr loop_def p_2420f{loop::other, "2420F", p_2420f_body};
constexpr auto p_2420g_body = body(std::array{
    seg<"R:PW|R:2">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def p_2420g{loop::other, "2420G", p_2420g_body};
constexpr auto p_2420h_body = body(std::array{
    seg<"R:45|R:2|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
});
constexpr loop_def p_2420h{loop::other, "2420H", p_2420h_body};
constexpr auto adjudication_p_body = body(std::array{
    seg<"R|R|R(R:ER,HC,IV,WK;R;S;S;S;S;S)|N|R|S">("SVD", R, 1),
    seg<cas>("CAS", S, 5),
    seg<remittance_date>("DTP", R, 1),
    seg<amt_eaf>("AMT", S, 1),
});
constexpr loop_def adjudication_p{loop::other, "2430", adjudication_p_body};
constexpr auto form_body = body(std::array{
    seg<"R:AS,UT|R">("LQ", R, 1),
    seg<"R|S:N,W,Y|S|S|S">("FRM", R, 99),
});
constexpr loop_def form{loop::other, "2440", form_body};

constexpr auto p_2400_body = body(std::array{
    seg<"R">("LX", R, 1),
    seg<"R(R:ER,HC,IV,WK;R;S;S;S;S;S)|R|R:MJ,UN|R|S|N|"
        "R(R:1,2,3,4,5,6,7,8,9,10,11,12;S:1,2,3,4,5,6,7,8,9,10,11,12*3)|N|S:Y|N|S:Y|S:Y|N|N|S:0">(
        "SV1", R, 1),
    seg<"R(R:HC;R)|R:DA|R|R|R|R:1,4,6">("SV5", S, 1),
    qseg<pwk>("PWK", S, 10),
    qseg<"R:CT|R:AB,AD,AF,AG,NS">("PWK", S, 1),
    seg<cr1>("CR1", S, 1),
    seg<"R:I,R,S|R:MO|R">("CR3", S, 1),
    qseg<crc_ambulance>("CRC", S, 3),
    qseg<"R:70|R:N,Y|R:65">("CRC", S, 1),
    qseg<"R:09|R:N,Y|R:38,ZV|S:38,ZV">("CRC", S, 1),
    qseg<"R:472|R:D8,RD8|R">("DTP", R, 1),
    qseg<"R:471|R:D8|R">("DTP", S, 1),
    qseg<"R:607|R:D8|R">("DTP", S, 1),
    qseg<"R:463|R:D8|R">("DTP", S, 1),
    qseg<"R:461|R:D8|R">("DTP", S, 1),
    qseg<"R:304|R:D8|R">("DTP", S, 1),
    qseg<"R:738,739|R:D8|R">("DTP", S, 2),
    qseg<"R:011|R:D8|R">("DTP", S, 1),
    qseg<"R:455|R:D8|R">("DTP", S, 1),
    qseg<"R:454|R:D8|R">("DTP", S, 1),
    qseg<"R:PT|R">("QTY", S, 1),
    qseg<"R:FL|R">("QTY", S, 1),
    seg<"R:OG,TR|R:HT,R1,R2,R3,R4|R">("MEA", S, 5),
    seg<cn1>("CN1", S, 1),
    qseg<"R:9B|R">("REF", S, 1),
    qseg<"R:9D|R">("REF", S, 1),
    qseg<line_ref_g1>("REF", S, 5),
    qseg<"R:6R|R">("REF", S, 1),
    qseg<"R:EW|R">("REF", S, 1),
    qseg<"R:X4|R">("REF", S, 1),
    qseg<"R:F4|R">("REF", S, 1),
    qseg<"R:BT|R">("REF", S, 1),
    qseg<line_ref_9f>("REF", S, 5),
    qseg<"R:T|R">("AMT", S, 1),
    qseg<"R:F4|R">("AMT", S, 1),
    seg<k3>("K3", S, 10),
    qseg<"R:ADD,DCP|R">("NTE", S, 1),
    qseg<"R:TPO|R">("NTE", S, 1),
    seg<"R|R">("PS1", S, 1),
    seg<"R:00,01,02,03,04,05,06,07,08,09,10,11,12,13,14|R|S|S|S|S|S|N|S:ER,HC,IV,WK|S|"
        "S:MJ,UN|S|S:T1,T2,T3,T4,T5,T6|S:1,2,3,4,5|S:1,2,3,4,5,6">("HCP", S, 1),
    nest(drug_p, S, 1, match::any),
    nest(p_2420a, S, 1),
    nest(p_2420b, S, 1),
    nest(p_2420c, S, 1),
    nest(p_2420d, S, 1),
    nest(p_2420e, S, 1),
    nest(p_2420f, S, 2),
    nest(p_2420g, S, 1),
    nest(p_2420h, S, 1),
    nest(adjudication_p, S, 15, match::any),
    nest(form, S, 0, match::any),
});
constexpr loop_def p_2400{loop::line_2400, "2400", p_2400_body};

constexpr auto p_2300_body = body(std::array{
    seg<"R#20|R|N|N|R(R;R:B;R)|R:N,Y|R:A,B,C|R:N,W,Y|R:I,Y|S:P|"
        "S(R:AA,EM,OA;S:AA,EM,OA;N;S;S)|S:02,03,05,09|N|N|N|N|N|N|N|"
        "S:1,2,3,4,5,6,7,8,9,10,11,15">("CLM", R, 1),
    qseg<"R:431|R:D8|R">("DTP", S, 1),
    qseg<"R:454|R:D8|R">("DTP", S, 1),
    qseg<"R:304|R:D8|R">("DTP", S, 1),
    qseg<"R:453|R:D8|R">("DTP", S, 1),
    qseg<"R:439|R:D8|R">("DTP", S, 1),
    qseg<"R:484|R:D8|R">("DTP", S, 1),
    qseg<"R:455|R:D8|R">("DTP", S, 1),
    qseg<"R:471|R:D8|R">("DTP", S, 1),
    qseg<"R:314,360,361|R:D8,RD8|R">("DTP", S, 1),
    qseg<"R:297|R:D8|R">("DTP", S, 1),
    qseg<"R:296|R:D8|R">("DTP", S, 1),
    qseg<"R:435|R:D8|R">("DTP", S, 1),
    qseg<"R:096|R:D8|R">("DTP", S, 1),
    qseg<"R:090,091|R:D8|R">("DTP", S, 2),
    qseg<"R:444|R:D8|R">("DTP", S, 1),
    qseg<"R:050|R:D8|R">("DTP", S, 1),
    seg<pwk>("PWK", S, 10),
    seg<cn1>("CN1", S, 1),
    seg<"R:F5|R">("AMT", S, 1),
    qseg<"R:4N|R">("REF", S, 1),
    qseg<"R:F5|R">("REF", S, 1),
    qseg<"R:EW|R">("REF", S, 1),
    qseg<"R:9F|R">("REF", S, 1),
    qseg<"R:G1|R">("REF", S, 1),
    qseg<"R:F8|R">("REF", S, 1),
    qseg<"R:X4|R">("REF", S, 1),
    qseg<"R:9A|R">("REF", S, 1),
    qseg<"R:9C|R">("REF", S, 1),
    qseg<"R:LX|R">("REF", S, 1),
    qseg<"R:D9|R">("REF", S, 1),
    qseg<"R:EA|R">("REF", S, 1),
    qseg<"R:P4|R">("REF", S, 1),
    qseg<"R:1J|R">("REF", S, 1),
    seg<k3>("K3", S, 10),
    seg<"R:ADD,CER,DCP,DGN,TPO|R">("NTE", S, 1),
    seg<cr1>("CR1", S, 1),
    seg<"N|N|N|N|N|N|N|R:A,C,D,E,F,G,M|N|S|S">("CR2", S, 1),
    qseg<crc_ambulance>("CRC", S, 3),
    qseg<"R:E1,E2,E3|R:N,Y|R:L1,L2,L3,L4,L5|S:L1,L2,L3,L4,L5*4">("CRC", S, 3),
    qseg<"R:75|R:Y|R:IH">("CRC", S, 1),
    qseg<"R:ZZ|R:N,Y|R:AV,NU,S2,ST|S:AV,NU,S2,ST*2">("CRC", S, 1),
    qseg<"R(R:ABK,BK;R)|S(R:ABF,BF;R)*11">("HI", R, 1),
    qseg<"R(R:BP;R)|S(R:BO;R)">("HI", S, 1),
    qseg<"R(R:BG;R)|S(R:BG;R)*11">("HI", S, 2),
    seg<"R:00,01,02,03,04,05,06,07,08,09,10,11,12,13,14|R|S|S|S|S|S|N|N|N|N|N|"
        "S:T1,T2,T3,T4,T5,T6|S:1,2,3,4,5|S:1,2,3,4,5,6">("HCP", S, 1),
    nest(p_2310a, S, 2),
    nest(p_2310b, S, 1),
    nest(p_2310c, S, 1),
    nest(p_2310d, S, 1),
    nest(p_2310e, S, 1),
    nest(p_2310f, S, 1),
    nest(p_2320, S, 10, match::any),
    nest(p_2400, R, 50, match::any),
});
constexpr loop_def p_2300{loop::claim_2300, "2300", p_2300_body};

// ---- 837I claim (2300) and its loops -----------------------------------------------------------

constexpr spec_text provider_ids = "R:0B,1G,G2,LU|R";

constexpr auto i_2310a_body = body(std::array{
    seg<"R:71|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:AT|R:PXC|R">("PRV", S, 1),
    seg<provider_ids>("REF", S, 4),
});
constexpr loop_def i_2310a{loop::attending_2310a, "2310A", i_2310a_body};
constexpr auto i_2310b_body = body(std::array{
    seg<"R:72|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<provider_ids>("REF", S, 4),
});
constexpr loop_def i_2310b{loop::other, "2310B", i_2310b_body};
constexpr auto i_2310c_body = body(std::array{
    seg<"R:ZZ|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<provider_ids>("REF", S, 4),
});
constexpr loop_def i_2310c{loop::other, "2310C", i_2310c_body};
constexpr auto i_2310d_body = body(std::array{
    seg<"R:82|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<provider_ids>("REF", S, 4),
});
constexpr loop_def i_2310d{loop::rendering_2310, "2310D", i_2310d_body};
constexpr auto i_2310e_body = body(std::array{
    seg<"R:77|R:2|R|N|N|N|N|S:XX|S">("NM1", R, 1),
    seg<n3>("N3", R, 1),
    seg<n4>("N4", R, 1),
    seg<"R:0B,G2,LU|R">("REF", S, 3),
});
constexpr loop_def i_2310e{loop::other, "2310E", i_2310e_body};
constexpr auto i_2310f_body = body(std::array{
    seg<"R:DN|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2|R">("REF", S, 3),
});
constexpr loop_def i_2310f{loop::other, "2310F", i_2310f_body};

constexpr auto other_subscriber_name_i_body = body(std::array{
    seg<"R:IL|R:1,2|R|S|S|N|S|R:II,MI|R">("NM1", R, 1),
    seg<n3>("N3", S, 1),
    seg<n4>("N4", S, 1),
    seg<"R:SY|R">("REF", S, 2),
});
constexpr loop_def i_2330a{loop::other, "2330A", other_subscriber_name_i_body};
constexpr loop_def i_2330b{loop::other, "2330B", other_payer_body};
constexpr auto i_2330c_body = body(std::array{
    seg<"R:71|R:1">("NM1", R, 1),
    seg<provider_ids>("REF", R, 4),
});
constexpr loop_def i_2330c{loop::other, "2330C", i_2330c_body};
constexpr auto i_2330d_body = body(std::array{
    seg<"R:72|R:1">("NM1", R, 1),
    seg<provider_ids>("REF", R, 4),
});
constexpr loop_def i_2330d{loop::other, "2330D", i_2330d_body};
constexpr auto i_2330e_body = body(std::array{
    seg<"R:ZZ|R:1">("NM1", R, 1),
    seg<provider_ids>("REF", R, 4),
});
constexpr loop_def i_2330e{loop::other, "2330E", i_2330e_body};
constexpr auto i_2330f_body = body(std::array{
    seg<"R:77|R:2">("NM1", R, 1),
    seg<"R:0B,G2,LU|R">("REF", R, 3),
});
constexpr loop_def i_2330f{loop::other, "2330F", i_2330f_body};
constexpr auto i_2330g_body = body(std::array{
    seg<"R:82|R:1">("NM1", R, 1),
    seg<provider_ids>("REF", R, 4),
});
constexpr loop_def i_2330g{loop::other, "2330G", i_2330g_body};
constexpr auto i_2330h_body = body(std::array{
    seg<"R:DN|R:1">("NM1", R, 1),
    seg<"R:0B,1G,G2|R">("REF", R, 3),
});
constexpr loop_def i_2330h{loop::other, "2330H", i_2330h_body};
constexpr auto i_2330i_body = body(std::array{
    seg<"R:85|R:2">("NM1", R, 1),
    seg<"R:G2,LU|R">("REF", R, 2),
});
constexpr loop_def i_2330i{loop::other, "2330I", i_2330i_body};

constexpr auto i_2320_body = body(std::array{
    seg<"R:A,B,C,D,E,F,G,H,P,S,T,U|R:01,18,19,20,21,39,40,53,G8|S|S|N|N|N|N|"
        "S:11,12,13,14,15,16,17,AM,BL,CH,CI,DS,FI,HM,LM,MA,MB,MC,OF,TV,VA,WC,ZZ">("SBR", R, 1),
    seg<cas>("CAS", S, 5),
    qseg<"R:D|R">("AMT", S, 1),
    qseg<"R:EAF|R">("AMT", S, 1),
    qseg<"R:A8|R">("AMT", S, 1),
    seg<"N|N|R:N,W,Y|N|N|R:I,Y">("OI", R, 1),
    seg<"R|N|S*22">("MIA", S, 1),
    seg<moa>("MOA", S, 1),
    nest(i_2330a, R, 1),
    nest(i_2330b, R, 1),
    nest(i_2330c, S, 1),
    nest(i_2330d, S, 1),
    nest(i_2330e, S, 1),
    nest(i_2330f, S, 1),
    nest(i_2330g, S, 1),
    nest(i_2330h, S, 1),
    nest(i_2330i, S, 1),
});
constexpr loop_def i_2320{loop::other, "2320", i_2320_body};

constexpr auto drug_i_body = body(std::array{
    seg<"N|R:N4|R">("LIN", R, 1),
    seg<ctp>("CTP", R, 1),
    seg<drug_ref>("REF", S, 1),
});
constexpr loop_def drug_i{loop::other, "2410", drug_i_body};
constexpr auto i_2420a_body = body(std::array{
    seg<"R:72|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<line_provider_ref>("REF", S, 20),
});
constexpr loop_def i_2420a{loop::other, "2420A", i_2420a_body};
constexpr auto i_2420b_body = body(std::array{
    seg<"R:ZZ|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<line_provider_ref>("REF", S, 20),
});
constexpr loop_def i_2420b{loop::other, "2420B", i_2420b_body};
constexpr auto i_2420c_body = body(std::array{
    seg<"R:82|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<line_provider_ref>("REF", S, 20),
});
constexpr loop_def i_2420c{loop::line_rendering_2420, "2420C", i_2420c_body};
constexpr auto i_2420d_body = body(std::array{
    seg<"R:DN|R:1|R|S|S|N|S|S:XX|S">("NM1", R, 1),
    seg<"R:0B,1G,G2|R|N|S(R:2U;R)">("REF", S, 20),
});
constexpr loop_def i_2420d{loop::other, "2420D", i_2420d_body};
constexpr auto adjudication_i_body = body(std::array{
    seg<"R|R|S(R:ER,HC,HP,IV,WK;R;S;S;S;S;S)|R|R|S">("SVD", R, 1),
    seg<cas>("CAS", S, 5),
    seg<remittance_date>("DTP", R, 1),
    seg<amt_eaf>("AMT", S, 1),
});
constexpr loop_def adjudication_i{loop::other, "2430", adjudication_i_body};

constexpr auto i_2400_body = body(std::array{
    seg<"R">("LX", R, 1),
    seg<"R|S(R:ER,HC,HP,IV,WK;R;S;S;S;S;S)|R|R:DA,UN|R|N|S">("SV2", R, 1),
    seg<pwk>("PWK", S, 10),
    seg<"R:472|R:D8,RD8|R">("DTP", S, 1),
    qseg<"R:6R|R">("REF", S, 1),
    qseg<"R:9B|R">("REF", S, 1),
    qseg<"R:9D|R">("REF", S, 1),
    qseg<"R:GT|R">("AMT", S, 1),
    qseg<"R:N8|R">("AMT", S, 1),
    seg<"R:TPO|R">("NTE", S, 1),
    seg<"R:00,01,02,03,04,05,06,07,08,09,10,11,12,13,14|R|S|S|S|S|S|S|S:ER,HC,HP,IV,WK|S|"
        "S:DA,UN|S|S:T1,T2,T3,T4,T5,T6|S:1,2,3,4,5|S:1,2,3,4,5,6">("HCP", S, 1),
    nest(drug_i, S, 1, match::any),
    nest(i_2420a, S, 1),
    nest(i_2420b, S, 1),
    nest(i_2420c, S, 1),
    nest(i_2420d, S, 1),
    nest(adjudication_i, S, 15, match::any),
});
constexpr loop_def i_2400{loop::line_2400, "2400", i_2400_body};

constexpr auto i_2300_body = body(std::array{
    seg<"R#20|R|N|N|R(R;R:A;R)|N|R:A,B,C|R:N,W,Y|R:I,Y|N|N|N|N|N|N|N|N|N|N|"
        "S:1,2,3,4,5,6,7,8,9,10,11,15">("CLM", R, 1),
    qseg<"R:096|R:TM|R">("DTP", S, 1),
    qseg<"R:434|R:RD8|R">("DTP", R, 1),
    qseg<"R:435|R:D8,DT|R">("DTP", S, 1),
    qseg<"R:050|R:D8|R">("DTP", S, 1),
    seg<"R|S|R">("CL1", R, 1),
    seg<pwk>("PWK", S, 10),
    seg<cn1>("CN1", S, 1),
    seg<"R:F3|R">("AMT", S, 1),
    qseg<"R:4N|R">("REF", S, 1),
    qseg<"R:9F|R">("REF", S, 1),
    qseg<"R:G1|R">("REF", S, 1),
    qseg<"R:F8|R">("REF", S, 1),
    qseg<"R:9A|R">("REF", S, 1),
    qseg<"R:9C|R">("REF", S, 1),
    qseg<"R:LX|R">("REF", S, 5),
    qseg<"R:D9|R">("REF", S, 1),
    qseg<"R:LU|R">("REF", S, 1),
    qseg<"R:EA|R">("REF", S, 1),
    qseg<"R:P4|R">("REF", S, 1),
    qseg<"R:G4|R">("REF", S, 1),
    seg<k3>("K3", S, 10),
    qseg<"R:ALG,DCP,DGN,DME,MED,NTR,ODT,RHB,RLH,RNH,SET,SFM,SPT,UPI|R">("NTE", S, 10),
    qseg<"R:ADD|R">("NTE", S, 1),
    seg<"R:ZZ|R:N,Y|R:AV,NU,S2,ST|S:AV,NU,S2,ST*2">("CRC", S, 1),
    qseg<"R(R:ABK,BK;R;N;N;N;N;N;N;S:N,U,W,Y)">("HI", R, 1),
    qseg<"R(R:ABJ,BJ;R)">("HI", S, 1),
    qseg<"R(R:APR,PR;R)|S(R:APR,PR;R)*2">("HI", S, 1),
    qseg<"R(R:ABN,BN;R;N;N;N;N;N;N;S:N,U,W,Y)|S(R:ABN,BN;R;N;N;N;N;N;N;S:N,U,W,Y)*11">("HI", S, 1),
    qseg<"R(R:DR;R)">("HI", S, 1),
    qseg<"R(R:ABF,BF;R;N;N;N;N;N;N;S:N,U,W,Y)|S(R:ABF,BF;R;N;N;N;N;N;N;S:N,U,W,Y)*11">("HI", S, 2),
    qseg<"R(R:BBR,BR,CAH;R;R:D8;R)">("HI", S, 1),
    qseg<"R(R:BBQ,BQ;R;R:D8;R)|S(R:BBQ,BQ;R;R:D8;R)*11">("HI", S, 2),
    qseg<"R(R:BI;R;R:RD8;R)|S(R:BI;R;R:RD8;R)*11">("HI", S, 2),
    qseg<"R(R:BH;R;R:D8;R)|S(R:BH;R;R:D8;R)*11">("HI", S, 2),
    qseg<"R(R:BE;R;N;N;R)|S(R:BE;R;N;N;R)*11">("HI", S, 2),
    qseg<"R(R:BG;R)|S(R:BG;R)*11">("HI", S, 2),
    qseg<"R(R:TC;R)|S(R:TC;R)*11">("HI", S, 2),
    seg<"R:00,01,02,03,04,05,06,07,08,09,10,11,12,13,14|R|S|S|S|S|S|S|N|N|S:DA,UN|S|"
        "S:T1,T2,T3,T4,T5,T6|S:1,2,3,4,5|S:1,2,3,4,5,6">("HCP", S, 1),
    nest(i_2310a, S, 1),
    nest(i_2310b, S, 1),
    nest(i_2310c, S, 1),
    nest(i_2310d, S, 1),
    nest(i_2310e, S, 1),
    nest(i_2310f, S, 1),
    nest(i_2320, S, 10, match::any),
    nest(i_2400, R, 999, match::any),
});
constexpr loop_def i_2300{loop::claim_2300, "2300", i_2300_body};

// ---- hierarchy ---------------------------------------------------------------------------------

constexpr auto p_2000c_body = body(std::array{
    seg<"R|R|R:23|R:0">("HL", R, 1),
    seg<"R:01,19,20,21,39,40,53,G8|N|N|N|S:D8|S|S:01|S|S:Y">("PAT", R, 1),
    nest(patient_name_p, R, 1),
    nest(p_2300, R, 100, match::any),
});
constexpr loop_def p_2000c{loop::patient_2000c, "2000C", p_2000c_body};
constexpr auto p_2000b_body = body(std::array{
    seg<"R|R|R:22|R:0,1">("HL", R, 1),
    seg<sbr_p>("SBR", R, 1),
    seg<"N|N|N|N|S:D8|S|S:01|S|S:Y">("PAT", S, 1),
    nest(subscriber_name_p, R, 1),
    nest(payer_p, R, 1),
    nest(p_2300, S, 100, match::any),
    nest(p_2000c, S, 0, match::level),
});
constexpr loop_def p_2000b{loop::subscriber_2000b, "2000B", p_2000b_body};
constexpr auto p_2000a_body = body(std::array{
    seg<"R|N|R:20|R:1">("HL", R, 1),
    seg<"R:BI|R:PXC|R">("PRV", S, 1),
    seg<"R:85|R">("CUR", S, 1),
    nest(billing_provider_p, R, 1),
    nest(pay_to_p, S, 1),
    nest(pay_to_plan, S, 1),
    nest(p_2000b, R, 0, match::level),
});
constexpr loop_def p_2000a{loop::billing_2000a, "2000A", p_2000a_body};
constexpr auto p_root_body = body(std::array{
    seg<"R:837|R|S">("ST", R, 1),
    seg<"R:0019|R:00,18|R|R|R|R:CH,RP">("BHT", R, 1),
    nest(submitter_p, R, 1),
    nest(receiver, R, 1),
    nest(p_2000a, R, 0, match::level),
    seg<"R|R">("SE", R, 1),
});
constexpr loop_def p_root{loop::header, "", p_root_body};

constexpr auto i_2000c_body = body(std::array{
    seg<"R|R|R:23|R:0">("HL", R, 1),
    seg<"R:01,19,20,21,39,40,53,G8">("PAT", R, 1),
    nest(patient_name_i, R, 1),
    nest(i_2300, R, 100, match::any),
});
constexpr loop_def i_2000c{loop::patient_2000c, "2000C", i_2000c_body};
constexpr auto i_2000b_body = body(std::array{
    seg<"R|R|R:22|R:0,1">("HL", R, 1),
    seg<sbr_i>("SBR", R, 1),
    nest(subscriber_name_i, R, 1),
    nest(payer_i, R, 1),
    nest(i_2300, S, 100, match::any),
    nest(i_2000c, S, 0, match::level),
});
constexpr loop_def i_2000b{loop::subscriber_2000b, "2000B", i_2000b_body};
constexpr auto i_2000a_body = body(std::array{
    seg<"R|N|R:20|R:1">("HL", R, 1),
    seg<"R:BI|R:PXC|R">("PRV", S, 1),
    seg<"R:85|R">("CUR", S, 1),
    nest(billing_provider_i, R, 1),
    nest(pay_to_i, S, 1),
    nest(pay_to_plan, S, 1),
    nest(i_2000b, R, 0, match::level),
});
constexpr loop_def i_2000a{loop::billing_2000a, "2000A", i_2000a_body};
constexpr auto i_root_body = body(std::array{
    seg<"R:837|R|S">("ST", R, 1),
    seg<"R:0019|R:00,18|R|R|R|R:31,CH,RP">("BHT", R, 1),
    nest(submitter_i, R, 1),
    nest(receiver, R, 1),
    nest(i_2000a, R, 0, match::level),
    seg<"R|R">("SE", R, 1),
});
constexpr loop_def i_root{loop::header, "", i_root_body};

}  // namespace

const loop_def& professional_root() noexcept { return p_root; }
const loop_def& institutional_root() noexcept { return i_root; }

}  // namespace covgate::x12::schema
