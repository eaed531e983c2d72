#include "covgate/server/audit.hpp"

#include <doctest/doctest.h>

using namespace covgate;
using server::audit_format;

namespace {

server::audit_claim claim(std::string id, std::string patient, std::string setting,
                          std::int64_t since_ms, model::outcome result) {
  server::audit_claim c;
  c.id = std::move(id);
  c.patient = std::move(patient);
  c.dos = model::date{2026, 4, 1};
  c.result = result;
  c.setting = std::move(setting);
  c.place = "POS 12";
  c.detail = "tumor-unresectable <b>&</b>";  // escaped in HTML, quoted in JSON
  c.since_ms = since_ms;
  return c;
}

// A report as build_audit sorts it, of the `patients` named (P1..P6): one store's, or (all
// six) the report of one store holding every partition.
server::audit_report report_of(const std::vector<std::string>& patients) {
  server::audit_report r;
  r.as_of = model::date{2026, 4, 1};
  for (const auto& p : patients) {
    server::csii_audit_row row;
    row.patient = p;
    row.doc.insulinopenia = p.back() % 2 == 0;
    row.doc.basis = row.doc.insulinopenia ? "c-peptide" : "";
    row.claims = 2;
    row.latest_dos = model::date{2026, 3, 30};
    row.open_holds = 1;
    row.hold_reasons = {"csii.followup-visit-missing", "a \"quoted\", reason"};
    r.csii.push_back(row);
    r.heparin.push_back(
        claim("H-" + p, p, p < "P4" ? "home" : "inpatient-or-snf", 0,
              p.back() % 2 == 0 ? model::outcome::release : model::outcome::hold_review));
    r.chemo_missing.push_back(claim("C-" + p, p, "",
                                    1'700'000'000'000 + 1000 * (7 - (p.back() - '0')),
                                    model::outcome::hold_review));
    r.implantable.push_back(claim("I-" + p, p, "", 1'700'000'000'000, model::outcome::hold_review));
  }
  const auto sort = [](auto& list, auto less) { std::sort(list.begin(), list.end(), less); };
  sort(r.heparin, [](const auto& a, const auto& b) {
    return std::tie(a.setting, a.id) < std::tie(b.setting, b.id);
  });
  const auto oldest_first = [](const auto& a, const auto& b) {
    return std::tie(a.since_ms, a.id) < std::tie(b.since_ms, b.id);
  };
  sort(r.chemo_missing, oldest_first);
  sort(r.implantable, oldest_first);
  return r;
}

}  // namespace

TEST_SUITE("server.audit") {
  TEST_CASE("the rows of two stores, sent and put together, are the audit of both, byte for byte") {
    const auto whole = report_of({"P1", "P2", "P3", "P4", "P5", "P6"});
    const auto first = report_of({"P2", "P3", "P6"});
    const auto second = report_of({"P1", "P4", "P5"});
    for (const auto format : {audit_format::json, audit_format::csv, audit_format::html}) {
      CAPTURE(static_cast<int>(format));
      // Through the wire form, as a front gets each partition's rows.
      auto merged = server::decode_audit_rows(
          server::encode_audit_rows(server::audit_rows_of(first, format)));
      REQUIRE(merged);
      auto other = server::decode_audit_rows(
          server::encode_audit_rows(server::audit_rows_of(second, format)));
      REQUIRE(other);
      server::merge_audit_rows(*merged, std::move(*other));
      const auto expected = format == audit_format::json  ? server::audit_json(whole)
                            : format == audit_format::csv ? server::audit_csv(whole)
                                                          : server::audit_html(whole);
      CHECK(server::write_audit(*merged, format) == expected);
    }
    // The heparin summary counts the released claims of both.
    const auto html = server::audit_html(whole);
    CHECK(html.find("<tr><td>home</td><td>3</td><td>1</td></tr>") != std::string::npos);
    CHECK(html.find("<tr><td>inpatient-or-snf</td><td>3</td><td>2</td></tr>") != std::string::npos);
    CHECK(html.find("&lt;b&gt;&amp;&lt;/b&gt;") != std::string::npos);
  }

  TEST_CASE(
      "one CLM01 two billing providers sent: each row names its NPI, and put together "
      "they keep one store's order") {
    // One store's report, sorted as build_audit sorts it: a CLM01's claims by billing NPI.
    const auto with_npi = [](std::string npi, std::string patient) {
      auto c =
          claim("1001", std::move(patient), "home", 1'700'000'000'000, model::outcome::hold_review);
      c.billing_npi = std::move(npi);
      return c;
    };
    const auto report = [&](std::vector<server::audit_claim> claims) {
      server::audit_report r;
      r.as_of = model::date{2026, 4, 1};
      r.heparin = claims;
      r.implantable = std::move(claims);
      return r;
    };
    const auto whole =
        report({with_npi("1234567893", "P9"), with_npi("1999999984", "P1")});  // by NPI
    const auto json = server::audit_json(whole);
    CHECK(json.find(R"("id":"1001","billing":{"npi":"1234567893"},"patient":"P9")") !=
          std::string::npos);
    CHECK(server::audit_html(whole).find("<td>1001</td><td>1999999984</td><td>P1</td>") !=
          std::string::npos);
    for (const auto format : {audit_format::json, audit_format::html}) {
      CAPTURE(static_cast<int>(format));
      // Each provider's claim in a partition of its own (patients differ), the later NPI's
      // partition answering first.
      auto merged = server::audit_rows_of(report({with_npi("1999999984", "P1")}), format);
      server::merge_audit_rows(
          merged, server::audit_rows_of(report({with_npi("1234567893", "P9")}), format));
      CHECK(server::write_audit(merged, format) ==
            (format == audit_format::json ? json : server::audit_html(whole)));
    }
  }

  TEST_CASE("an empty store's rows add nothing, and bad wire text is refused") {
    const auto whole = report_of({"P1", "P2"});
    auto rows = server::audit_rows_of(whole, audit_format::json);
    server::merge_audit_rows(rows, server::audit_rows_of(report_of({}), audit_format::json));
    CHECK(server::write_audit(rows, audit_format::json) == server::audit_json(whole));
    CHECK(server::write_audit(server::audit_rows_of(report_of({}), audit_format::html),
                              audit_format::html)
              .find("No patient with an insulin-pump claim.") != std::string::npos);
    for (const char* bad :
         {"", "[]", "{}",
          R"({"as_of":"2026-13-01","csii":[],"heparin":[],"chemo_missing":[],)"
          R"("implantable":[]})",
          R"({"as_of":"2026-04-01","csii":[["P1"]],"heparin":[],"chemo_missing":[],)"
          R"("implantable":[]})",
          R"({"as_of":"2026-04-01","csii":[],"heparin":[["H",1.5,"home",true,"x"]],)"
          R"("chemo_missing":[],"implantable":[]})",
          R"({"as_of":"2026-04-01","csii":[],"heparin":[]})"}) {
      CAPTURE(bad);
      CHECK_FALSE(server::decode_audit_rows(bad));
    }
  }
}
