#include "covgate/x12/status_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace covgate::x12 {
namespace {

std::string pad(std::string_view text, std::size_t width) {
  std::string out(text.substr(0, width));
  out.resize(width, ' ');
  return out;
}

std::string money(std::int64_t cents) {
  char buffer[32];
  const auto whole = cents / 100;
  const auto part = std::llabs(cents % 100);
  if (part == 0) {
    std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(whole));
  } else {
    std::snprintf(buffer, sizeof buffer, "%s%lld.%02lld", cents < 0 && whole == 0 ? "-" : "",
                  static_cast<long long>(whole), static_cast<long long>(part));
  }
  return buffer;
}

std::string ccyymmdd(const model::date& d) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02d", d.year, d.month, d.day);
  return buffer;
}

class writer {
 public:
  writer(const delimiters& d, bool breaks) : d_(d), breaks_(breaks) {}
  writer& seg(std::string_view id) {
    out_.append(id);
    ++count_;
    return *this;
  }
  writer& el(std::string_view v) {
    out_.push_back(d_.element);
    out_.append(v);
    return *this;
  }
  void end() {
    // Trailing empty elements are not sent.
    while (!out_.empty() && out_.back() == d_.element) out_.pop_back();
    out_.push_back(d_.segment);
    if (breaks_ && d_.segment != '\n') out_.push_back('\n');
  }
  std::string composite(std::initializer_list<std::string_view> parts) const {
    std::string c;
    bool first = true;
    for (const auto p : parts) {
      if (!first) c.push_back(d_.component);
      first = false;
      c.append(p);
    }
    while (!c.empty() && c.back() == d_.component) c.pop_back();
    return c;
  }
  std::uint32_t count() const { return count_; }
  void reset() { count_ = 0; }
  std::string& text() { return out_; }

 private:
  const delimiters& d_;
  bool breaks_;
  std::string out_;
  std::uint32_t count_ = 0;
};

model::date_range service_period(const model::claim& c) {
  model::date_range r;
  for (const auto& l : c.lines) {
    if (!l.service_dates.from.valid()) continue;
    if (!r.from.valid() || l.service_dates.from < r.from) r.from = l.service_dates.from;
    const auto to = l.service_dates.to.valid() ? l.service_dates.to : l.service_dates.from;
    if (!r.to.valid() || r.to < to) r.to = to;
  }
  if (!r.from.valid()) r = c.statement_dates;
  return r;
}

}  // namespace

std::string write_277(const std::vector<status_entry>& entries, const status_settings& s) {
  if (entries.empty()) return {};
  const bool strict = s.profile == status_profile::acknowledgment_x214;
  const auto& first = entries.front().claim->envelope;
  writer w(s.delims, s.line_breaks);
  char control[16];
  std::snprintf(control, sizeof control, "%09u", s.control % 1000000000u);
  w.seg("ISA")
      .el("00")
      .el(pad("", 10))
      .el("00")
      .el(pad("", 10))
      .el(s.sender_qualifier)
      .el(pad(s.sender_id, 15))
      .el(first.sender_qualifier.empty() ? "ZZ" : first.sender_qualifier)
      .el(pad(first.sender_id, 15))
      .el(s.date.substr(2))
      .el(s.time)
      .el(std::string(1, s.delims.repetition))
      .el("00501")
      .el(control)
      .el("0")
      .el("P")
      .el(std::string(1, s.delims.component));
  w.end();
  const std::string guide = strict ? "005010X214" : "005010X212";
  w.seg("GS")
      .el("HN")
      .el(s.sender_id)
      .el(first.application_sender)
      .el(s.date)
      .el(s.time)
      .el(std::to_string(s.control))
      .el("X")
      .el(guide);
  w.end();
  w.reset();
  w.seg("ST").el("277").el("0001").el(guide).end();
  w.seg("BHT")
      .el(strict ? "0085" : "0010")
      .el("08")
      .el("COVGATE" + std::to_string(s.control))
      .el(s.date)
      .el(s.time)
      .el(strict ? "TH" : "DG");
  w.end();
  std::uint32_t hl = 1;
  w.seg("HL").el("1").el("").el("20").el("1").end();
  w.seg("NM1").el("PR").el("2").el("COVGATE").el("").el("").el("").el("").el("46").el(s.sender_id);
  w.end();
  w.seg("HL").el(std::to_string(++hl)).el("1").el("21").el("1").end();
  w.seg("NM1")
      .el("41")
      .el("2")
      .el("SUBMITTER")
      .el("")
      .el("")
      .el("")
      .el("")
      .el("46")
      .el(first.sender_id);
  w.end();
  w.seg("TRN").el("2").el(first.originator_reference.empty() ? "NONE" : first.originator_reference);
  w.end();
  // One provider level per billing NPI, in first-seen order.
  std::vector<std::string> providers;
  for (const auto& e : entries) {
    if (std::find(providers.begin(), providers.end(), e.claim->billing.npi) == providers.end()) {
      providers.push_back(e.claim->billing.npi);
    }
  }
  for (const auto& npi : providers) {
    const auto provider_hl = ++hl;
    w.seg("HL").el(std::to_string(provider_hl)).el("2").el("19").el("1").end();
    w.seg("NM1")
        .el("85")
        .el("2")
        .el("BILLING PROVIDER")
        .el("")
        .el("")
        .el("")
        .el("")
        .el(npi.empty() ? "" : "XX")
        .el(npi);
    w.end();
    for (const auto& e : entries) {
      if (e.claim->billing.npi != npi) continue;
      const auto& c = *e.claim;
      const auto& d = e.decision;
      w.seg("HL").el(std::to_string(++hl)).el(std::to_string(provider_hl)).el("PT").end();
      w.seg("NM1")
          .el("QC")
          .el("1")
          .el("PATIENT")
          .el("")
          .el("")
          .el("")
          .el("")
          .el(c.subscriber.member_id_qualifier.empty() ? "MI" : c.subscriber.member_id_qualifier)
          .el(c.subscriber.member_id);
      w.end();
      w.seg("TRN").el("2").el(c.id).end();
      const bool released = d.result == model::outcome::release;
      const auto charge = money(c.total_charge_cents);
      auto stc = [&](std::string_view category, std::string_view status, std::string_view extra,
                     const std::string& note) {
        w.seg("STC")
            .el(w.composite({category, status}))
            .el(s.date)
            .el(released ? "WQ" : "")
            .el(charge)
            .el("")
            .el("")
            .el("")
            .el("")
            .el("")
            .el(extra.empty() ? std::string{} : w.composite({category, extra}))
            .el("")
            .el(note);
        w.end();
      };
      if (strict) {
        // 277CA allows A categories only (X12 RFI 1942): every hold is A1:19, its reasons in
        // STC12; a release is A2:20.
        std::string note;
        for (const auto& f : d.findings) note.append(note.empty() ? "" : " ").append(f.reason);
        stc(released ? "A2" : "A1", released ? "20" : "19", "", note);
      } else if (released || d.findings.empty()) {
        std::string note;
        for (const auto& f : d.findings) note.append(note.empty() ? "" : " ").append(f.reason);
        stc("A2", "20", "", note);
      } else {
        // One STC per reason code; STC12 names the code and the lines it holds.
        std::vector<const model::finding*> first_of_reason;
        for (const auto& f : d.findings) {
          if (f.result == model::outcome::release) continue;
          if (std::none_of(first_of_reason.begin(), first_of_reason.end(),
                           [&](const auto* g) { return g->reason == f.reason; })) {
            first_of_reason.push_back(&f);
          }
        }
        for (const auto* f : first_of_reason) {
          std::string lines;
          for (const auto& g : d.findings) {
            if (g.reason != f->reason || g.line == 0) continue;
            lines += (lines.empty() ? " LX" : ",") + std::to_string(g.line);
          }
          stc(f->category, f->status, f->extra_status, std::string(f->reason) + lines);
        }
      }
      if (released && !e.trace.empty()) w.seg("REF").el("1K").el(e.trace).end();
      if (c.kind == model::claim_kind::institutional && !c.bill_type().empty()) {
        w.seg("REF").el("BLT").el(c.bill_type()).end();
      }
      const auto period = service_period(c);
      if (period.from.valid()) {
        if (period.to.valid() && period.from != period.to) {
          w.seg("DTP").el("472").el("RD8").el(ccyymmdd(period.from) + "-" + ccyymmdd(period.to));
        } else {
          w.seg("DTP").el("472").el("D8").el(ccyymmdd(period.from));
        }
        w.end();
      }
    }
  }
  const auto segments = w.count() + 1;  // ST..SE inclusive, counted before SE is begun
  w.seg("SE").el(std::to_string(segments)).el("0001").end();
  w.seg("GE").el("1").el(std::to_string(s.control)).end();
  w.seg("IEA").el("1").el(control).end();
  return std::move(w.text());
}

}  // namespace covgate::x12
