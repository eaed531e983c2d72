#include "covgate/server/claims_view.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/model/hex.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/store/message_source.hpp"
#include "evidence_json.hpp"

namespace covgate::server {

std::string_view name(queue q) noexcept {
  switch (q) {
    case queue::documentation:
      return "documentation";
    case queue::review:
      return "review";
    case queue::not_covered:
      return "not-covered";
    case queue::invalid:
      return "invalid";
    case queue::released:
      return "released";
  }
  return "documentation";
}

std::optional<queue> queue_named(std::string_view text) noexcept {
  for (const auto q :
       {queue::documentation, queue::review, queue::not_covered, queue::invalid, queue::released}) {
    if (name(q) == text) return q;
  }
  return std::nullopt;
}

namespace {

constexpr std::int64_t day_ms = 86'400'000;

std::string_view queue_of(model::outcome o) {
  switch (o) {
    case model::outcome::hold_documentation:
      return "documentation";
    case model::outcome::hold_review:
      return "review";
    case model::outcome::hold_not_covered:
      return "not-covered";
    case model::outcome::hold_invalid:
      return "invalid";
    case model::outcome::release:
      return "released";
  }
  return "released";
}

void instant(model::json_writer& w, std::string_view key, std::int64_t ms) {
  w.key(key);
  if (ms > 0) {
    w.value(model::iso_instant(ms));
  } else {
    w.null();
  }
}

void row_json(model::json_writer& w, const store::claim_row& r, std::int64_t now_ms) {
  // The claim as users name it: its CLM01, and its billing NPI below ("billing").
  w.begin_object().key("id").value(model::split_claim_key(r.id).clm01);
  w.key("outcome").value(model::name(r.result));
  w.key("queue").value(queue_of(r.result));
  w.key("patient").value(r.patient).key("patient_name").value(r.patient_name);
  w.key("dos").value(r.dos);
  w.key("reasons").begin_array();
  for (const auto& info : model::reasons()) {
    if (r.reasons & (std::uint64_t{1} << static_cast<unsigned>(info.id))) w.value(info.code);
  }
  w.end_array();
  w.key("reason").value(r.reason);
  w.key("billing").begin_object().key("npi").value(r.billing).key("name").value(r.billing_name);
  w.end_object();
  w.key("sender").begin_object().key("id").value(r.sender).key("name").value(r.sender_name);
  w.end_object();
  w.key("charge_cents").value(r.charge_cents);
  instant(w, "since", r.since_ms);
  w.key("age_seconds").value(r.since_ms > 0 ? (now_ms - r.since_ms) / 1000 : std::int64_t{0});
  instant(w, "updated", r.updated_ms);
  w.key("events").value(std::int64_t{r.events});
  w.end_object();
}

std::string sort_value(const store::claim_row& r, store::claim_sort sort) {
  using store::claim_sort;
  switch (sort) {
    case claim_sort::id:
      return r.id;
    case claim_sort::patient:
      return r.patient;
    case claim_sort::name:
      return r.patient_name;
    case claim_sort::dos:
      return r.dos;
    case claim_sort::outcome:
      return std::to_string(static_cast<int>(r.result));
    case claim_sort::reason:
      return r.reason;
    case claim_sort::provider:
      return r.billing_name;
    case claim_sort::sender:
      return r.sender_name;
    case claim_sort::charge:
      return std::to_string(r.charge_cents);
    case claim_sort::since:
      return std::to_string(r.since_ms);
    case claim_sort::updated:
      return std::to_string(r.updated_ms);
    case claim_sort::events:
      return std::to_string(r.events);
  }
  return r.id;
}

void person_json(model::json_writer& w, const model::person& p) {
  w.begin_object().key("member_id").value(p.member_id);
  w.key("name").begin_object().key("last").value(p.name.last).key("first").value(p.name.first);
  w.key("middle").value(p.name.middle).end_object();
  w.key("birth_date").value(p.birth_date.iso());
  w.key("sex").value(p.sex ? std::string_view(&p.sex, 1) : std::string_view{});
  w.end_object();
}

void provider_json(model::json_writer& w, const model::provider& p) {
  w.begin_object().key("npi").value(p.npi).key("taxonomy").value(p.taxonomy);
  w.key("name").value(p.name.first.empty() ? p.name.last : p.name.last + ", " + p.name.first);
  w.end_object();
}

}  // namespace

std::string claims_view::cursor_of(const store::claim_row& row, store::claim_sort sort) {
  return cursor_of(sort == store::claim_sort::id ? std::string() : sort_value(row, sort), row.id,
                   sort);
}

std::string claims_view::cursor_of(std::string_view sort_value, std::string_view id,
                                   store::claim_sort sort) {
  if (sort == store::claim_sort::id) return std::string(id);
  return "k" + model::hex(sort_value) + "." + model::hex(id);
}

std::string claims_view::sort_value_of(const store::claim_row& row, store::claim_sort sort) {
  return sort_value(row, sort);
}

std::string claims_view::list_row_json(const store::claim_row& row, std::int64_t now_ms) {
  std::string out;
  model::json_writer w(out);
  row_json(w, row, now_ms);
  return out;
}

std::optional<std::pair<std::string, std::string>> claims_view::read_cursor(
    std::string_view cursor, store::claim_sort sort) {
  if (sort == store::claim_sort::id) return std::pair{std::string(cursor), std::string(cursor)};
  if (cursor.empty() || cursor[0] != 'k') return std::nullopt;
  const auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto value = model::unhex(cursor.substr(1, dot - 1));
  auto id = model::unhex(cursor.substr(dot + 1));
  if (!value || !id) return std::nullopt;
  return std::pair{std::move(*value), std::move(*id)};
}

std::string claims_view::list_json(const store::claim_query& query, std::int64_t now_ms) {
  std::string out;
  gate_.read([&](const store::sqlite_store& store) {
    const auto page = store.list_claims(query);
    std::vector<std::string> rows;
    rows.reserve(page.rows.size());
    for (const auto& row : page.rows) rows.push_back(list_row_json(row, now_ms));
    std::optional<std::string> next;
    if (page.rows.size() == query.limit && !page.rows.empty()) {
      next = cursor_of(page.rows.back(), query.sort);
    }
    out = list_json(query, page.total, rows, next);
  });
  return out;
}

std::string claims_view::list_json(const store::claim_query& query, std::uint64_t total,
                                   const std::vector<std::string>& rows_json,
                                   const std::optional<std::string>& next) {
  std::string out;
  model::json_writer w(out);
  w.begin_object();
  if (query.released_since_ms) {
    w.key("queue").value("released");
  } else {
    const auto o = query.result.value_or(model::outcome::release);
    w.key("queue").value(queue_of(o)).key("outcome").value(model::name(o));
  }
  w.key("total").value(static_cast<std::int64_t>(total));
  w.key("claims").begin_array();
  for (const auto& row : rows_json) w.raw(row);
  w.end_array();
  if (next) {
    w.key("next").value(*next);
  } else {
    w.key("next").null();
  }
  w.end_object();
  return out;
}

queue_counts claims_view::queue_counts_of(const store::sqlite_store& store, std::int64_t now_ms,
                                          std::int64_t released_window_ms) {
  queue_counts out{};
  const auto counts = store.queue_counts();
  for (const auto o : {model::outcome::hold_documentation, model::outcome::hold_review,
                       model::outcome::hold_not_covered, model::outcome::hold_invalid}) {
    out[static_cast<std::size_t>(o) - 1] = counts[static_cast<std::size_t>(o)];
  }
  out[static_cast<std::size_t>(queue::released)] =
      store.released_count(now_ms - released_window_ms);
  return out;
}

std::string claims_view::queues_json(std::int64_t now_ms, std::int64_t released_window_ms) {
  queue_counts counts{};
  gate_.read([&](const store::sqlite_store& store) {
    counts = queue_counts_of(store, now_ms, released_window_ms);
  });
  return queues_json(counts, now_ms, released_window_ms);
}

std::string claims_view::queues_json(const queue_counts& counts, std::int64_t now_ms,
                                     std::int64_t released_window_ms) {
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("at").value(model::iso_instant(now_ms)).key("queues").begin_array();
  auto one = [&](std::string_view name, std::string_view outcome, const store::queue_count& c) {
    w.begin_object().key("queue").value(name).key("outcome").value(outcome);
    w.key("count").value(static_cast<std::int64_t>(c.count));
    instant(w, "oldest", c.count > 0 ? c.oldest_since_ms : 0);
    w.key("oldest_age_seconds");
    if (c.count > 0 && c.oldest_since_ms > 0) {
      w.value((now_ms - c.oldest_since_ms) / 1000);
    } else {
      w.null();
    }
    w.end_object();
  };
  for (const auto o : {model::outcome::hold_documentation, model::outcome::hold_review,
                       model::outcome::hold_not_covered, model::outcome::hold_invalid}) {
    one(queue_of(o), model::name(o), counts[static_cast<std::size_t>(o) - 1]);
  }
  one("released", "release", counts[static_cast<std::size_t>(queue::released)]);
  w.end_array();
  w.key("released_window_hours").value(released_window_ms / 3'600'000);
  w.end_object();
  return out;
}

namespace {

// Age buckets a reviewer thinks in: today, this week, this month, older.
struct age_bucket {
  std::string_view label;
  std::int64_t below_ms;
};
constexpr std::array<age_bucket, chart_counts::age_buckets> bucket_of_age{
    {{"< 1 day", day_ms},
     {"1-3 days", 3 * day_ms},
     {"3-7 days", 7 * day_ms},
     {"7-30 days", 30 * day_ms},
     {"> 30 days", INT64_MAX}}};

}  // namespace

chart_counts::chart_counts(std::int64_t now_ms, int days)
    : now_ms_(now_ms), first_day_ms_((now_ms / day_ms - (days - 1)) * day_ms) {
  by_day.resize(static_cast<std::size_t>(std::max(days, 0)));
}

void chart_counts::add_hold(const store::claim_row& r) {
  for (std::size_t i = 0; i < model::reason_count; ++i) {
    if (r.reasons & (std::uint64_t{1} << i)) ++by_reason[i];
  }
  const auto age = now_ms_ - r.since_ms;
  std::size_t b = 0;
  while (b + 1 < bucket_of_age.size() && age >= bucket_of_age[b].below_ms) ++b;
  const auto o = static_cast<std::size_t>(r.result);
  if (o >= 1 && o <= 4) ++by_age[o - 1][b];
}

void chart_counts::add_release(const store::release_row& r) {
  if (r.at_ms < first_day_ms_) return;
  const auto day = static_cast<std::size_t>((r.at_ms - first_day_ms_) / day_ms);
  if (day >= by_day.size()) return;
  ++by_day[day][r.by_reviewer ? 0 : r.first_answer ? 2 : 1];
}

std::vector<std::uint64_t> chart_counts::numbers() const {
  std::vector<std::uint64_t> out(by_reason.begin(), by_reason.end());
  for (const auto& per_outcome : by_age)
    out.insert(out.end(), per_outcome.begin(), per_outcome.end());
  for (const auto& day : by_day) out.insert(out.end(), day.begin(), day.end());
  return out;
}

bool chart_counts::add_numbers(std::span<const std::uint64_t> numbers) {
  if (numbers.size() != numbers_per_chart(by_day.size())) return false;
  std::size_t at = 0;
  for (auto& n : by_reason) n += numbers[at++];
  for (auto& per_outcome : by_age) {
    for (auto& n : per_outcome) n += numbers[at++];
  }
  for (auto& day : by_day) {
    for (auto& n : day) n += numbers[at++];
  }
  return true;
}

std::size_t chart_counts::numbers_per_chart(std::size_t days) noexcept {
  return model::reason_count + 4 * bucket_of_age.size() + 3 * days;
}

void claims_view::add_charts(const store::sqlite_store& store, std::int64_t first_day_ms,
                             const std::function<chart_counts*(std::string_view)>& of_patient) {
  store.for_each_open_hold([&](const store::claim_row& r) {
    if (auto* c = of_patient(r.patient)) c->add_hold(r);
  });
  for (const auto& r : store.releases_since(first_day_ms)) {
    if (auto* c = of_patient(r.patient)) c->add_release(r);
  }
}

void claims_view::add_charts(const store::sqlite_store& store, chart_counts& counts) {
  add_charts(store, counts.first_day_ms(), [&counts](std::string_view) { return &counts; });
}

std::string claims_view::charts_json(std::int64_t now_ms, int days) {
  chart_counts counts(now_ms, days);
  gate_.read([&](const store::sqlite_store& store) { add_charts(store, counts); });
  return charts_json(counts);
}

std::string claims_view::charts_json(const chart_counts& counts) {
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("at").value(model::iso_instant(counts.now_ms()));
  w.key("holds_by_reason").begin_array();
  for (const auto& info : model::reasons()) {
    const auto n = counts.by_reason[static_cast<std::size_t>(info.id)];
    if (n == 0) continue;
    w.begin_object().key("reason").value(info.code).key("outcome").value(model::name(info.result));
    w.key("sentence").value(info.message).key("count").value(static_cast<std::int64_t>(n));
    w.end_object();
  }
  w.end_array();
  w.key("holds_by_age").begin_array();
  for (std::size_t b = 0; b < bucket_of_age.size(); ++b) {
    w.begin_object().key("bucket").value(bucket_of_age[b].label);
    std::int64_t total = 0;
    for (std::size_t o = 0; o < 4; ++o) {
      const auto n = static_cast<std::int64_t>(counts.by_age[o][b]);
      w.key(queue_of(static_cast<model::outcome>(o + 1))).value(n);
      total += n;
    }
    w.key("count").value(total).end_object();
  }
  w.end_array();
  w.key("releases_by_day").begin_array();
  for (std::size_t d = 0; d < counts.by_day.size(); ++d) {
    const auto start = counts.first_day_ms() + static_cast<std::int64_t>(d) * day_ms;
    const auto reviewer = static_cast<std::int64_t>(counts.by_day[d][0]);
    const auto evidence = static_cast<std::int64_t>(counts.by_day[d][1]);
    const auto first = static_cast<std::int64_t>(counts.by_day[d][2]);
    w.begin_object().key("day").value(model::iso_instant(start).substr(0, 10));
    w.key("by_reviewer").value(reviewer).key("by_evidence").value(evidence);
    w.key("first_answer").value(first).key("count").value(reviewer + evidence + first);
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string claims_view::version() {
  std::uint64_t writes = 0;
  gate_.read([&](const store::sqlite_store& store) { writes = store.claim_writes(); });
  return std::to_string(started_ms_) + "-" + std::to_string(writes);
}

std::string claims_view::changes_json() { return changes_json(version()); }

std::string claims_view::changes_json(std::string_view version) {
  std::string out;
  model::json_writer(out).begin_object().key("version").value(version).end_object();
  return out;
}

std::vector<std::string> claims_view::claim_keys_for(std::string_view reference) {
  std::vector<std::string> keys;
  gate_.inspect([&](const store::sqlite_store& store, const engine::intake&) {
    keys = store.claim_keys_for(reference);
  });
  return keys;
}

std::optional<std::string> claims_view::claim_json(std::string_view claim_id, std::int64_t now_ms,
                                                   message_naming naming) {
  // The message an event came from, as this server's GET /messages/{id} or a cluster front's
  // names it; 0 when neither can show it.
  const auto message_of = [naming](std::string_view source) -> std::int64_t {
    if (!naming.by_stream) return store::journal_id_of(source);
    const auto origin = store::stream_origin_of(source);
    if (!origin || origin->partition >= naming.stream_partitions) return 0;
    constexpr auto most = static_cast<std::uint64_t>(INT64_MAX);
    return origin->sequence <= most ? static_cast<std::int64_t>(origin->sequence) : 0;
  };
  std::optional<std::string> out;
  gate_.inspect([&](const store::sqlite_store& store, const engine::intake& intake) {
    const auto record = store.load(claim_id);
    if (!record) return;
    const auto& c = record->claim;
    const auto& d = record->decision;
    const auto row = store.claim_row_of(claim_id);
    std::string text;
    model::json_writer w(text);
    w.begin_object().key("current");
    {
      std::string line;
      model::append_json(line, d, c.billing.npi, record->closed ? "closed" : "current",
                         record->source);
      w.raw(line);
    }
    w.key("queue").value(record->closed ? std::string_view("closed") : queue_of(d.result));
    if (row) {
      instant(w, "since", row->since_ms);
      w.key("age_seconds").value(row->since_ms > 0 ? (now_ms - row->since_ms) / 1000 : 0);
      instant(w, "updated", row->updated_ms);
    }
    w.key("reviewable")
        .value(!record->closed && d.result != model::outcome::release &&
               d.result != model::outcome::hold_documentation);

    // The claim as the 837 said it.
    w.key("claim").begin_object().key("id").value(c.id);
    w.key("kind").value(c.kind == model::claim_kind::institutional ? "institutional"
                                                                   : "professional");
    w.key("frequency").value(c.frequency ? std::string_view(&c.frequency, 1) : "");
    w.key("subscriber");
    person_json(w, c.subscriber);
    w.key("patient");
    person_json(w, c.patient.present() ? c.patient : c.subscriber);
    w.key("payer_id").value(c.payer_id);
    w.key("billing");
    provider_json(w, c.billing);
    w.key("rendering");
    provider_json(w, c.rendering);
    w.key("sender").begin_object().key("id").value(c.envelope.sender_id);
    w.key("name").value(c.envelope.submitter.last).key("etin").value(c.envelope.submitter_id);
    w.key("interchange").value(c.envelope.interchange_control).end_object();
    w.key("place_of_service").value(c.place_of_service).key("bill_type").value(c.bill_type());
    w.key("prior_authorization").value(c.prior_authorization);
    w.key("diagnoses").begin_array();
    for (const auto& dx : c.diagnoses) w.value(dx.code);
    w.end_array();
    w.key("charge_cents").value(c.total_charge_cents);
    w.key("lines").begin_array();
    bool csii = false;
    for (const auto& l : c.lines) {
      const auto cls = tables_.hcpcs(l.procedure_code);
      csii = csii || cls == mapping::hcpcs_class::csii;
      w.begin_object().key("number").value(std::int64_t{l.number});
      w.key("procedure").value(l.procedure_code).key("modifiers").begin_array();
      for (const auto& m : l.modifiers) w.value(m);
      w.end_array();
      w.key("class").value(mapping::name(cls));
      w.key("charge_cents").value(l.charge_cents).key("units").value(l.units);
      w.key("dos").value(l.service_dates.from.iso());
      w.key("place_of_service").value(l.place_of_service).key("revenue_code").value(l.revenue_code);
      w.key("prior_authorization").value(l.prior_authorization);
      w.end_object();
    }
    w.end_array().end_object();

    // Every reason as its sentence, and the facts it cites.
    std::vector<std::string> cited;
    w.key("reasons").begin_array();
    for (const auto& f : d.findings) {
      w.begin_object().key("code").value(f.code()).key("line").value(std::int64_t{f.line});
      w.key("outcome").value(model::name(f.result())).key("stc").value(f.stc());
      w.key("sentence").value(f.message()).key("detail").value(f.detail);
      w.key("facts").begin_array();
      for (const auto& id : f.facts_used) {
        w.value(id);
        if (std::find(cited.begin(), cited.end(), id) == cited.end()) cited.push_back(id);
      }
      w.end_array().end_object();
    }
    w.end_array();
    w.key("evidence").begin_array();
    for (const auto& id : cited) {
      const auto resource = model::fact_index::resource_of(id);
      const auto encoded = store.facts_of(resource);
      const auto facts = encoded ? model::decode_facts(*encoded) : std::nullopt;
      const model::fact* found = nullptr;
      if (facts) {
        for (const auto& f : *facts) {
          if (model::resource_id_of(f) == id) found = &f;
        }
        if (!found && !facts->empty()) found = &facts->front();
      }
      w.begin_object().key("cited").value(id).key("resource").value(resource);
      if (found) {
        w.key("fact");
        fact_json(w, *found);
        if (id != model::resource_id_of(*found)) w.key("derived").value(id.substr(resource.size()));
      } else {
        w.key("fact").null();
      }
      w.end_object();
    }
    w.end_array();
    // An insulin pump line: what the record documents on the date of service, now.
    if (csii && d.dos.valid()) {
      const auto context = intake.patient_context(c.subscriber.member_id);
      w.key("csii");
      csii_json(w, policy::document_csii(context, d.dos, policy_, tables_));
    }

    // The timeline: who, when, why, which message.
    w.key("history").begin_array();
    for (const auto& h : store.history(claim_id)) {
      w.begin_object().key("sequence").value(std::int64_t{h.sequence});
      w.key("event").value(h.kind).key("at").value(model::iso_instant(h.at_ms));
      const bool review = h.source.starts_with("review:");
      w.key("who").value(review ? std::string_view(h.source).substr(7) : "covgate");
      w.key("why");
      if (!h.note.empty()) {
        w.value(h.note);
      } else {
        w.null();
      }
      w.key("source").value(h.source);
      const auto message = message_of(h.source);
      w.key("message");
      if (message > 0) {
        w.value(message);
      } else {
        w.null();
      }
      w.key("outcome").value(model::name(h.decision.result));
      w.key("decision");
      std::string line;
      model::append_json(line, h.decision, c.billing.npi, h.kind, h.source);
      w.raw(line).end_object();
    }
    w.end_array();
    const auto message = message_of(record->source);
    w.key("message").begin_object().key("id");
    if (message > 0) {
      // Through a front, the stream held it when the claim was stored (its retention may
      // have removed it since: the front's GET /messages/{id} answers 404 then).
      w.value(message)
          .key("available")
          .value(naming.by_stream || store.journal_at(message).has_value());
    } else {
      w.null().key("available").value(false);
    }
    w.end_object().end_object();
    out = std::move(text);
  });
  return out;
}

std::optional<std::string> claims_view::message_json(std::int64_t journal_id) {
  std::optional<std::string> out;
  gate_.read([&](const store::sqlite_store& store) {
    if (const auto m = store.journal_at(journal_id)) out = message_json_of(*m);
  });
  return out;
}

std::string claims_view::message_json_of(const store::journal_entry& m) {
  std::string text;
  model::json_writer w(text);
  w.begin_object().key("id").value(m.id).key("received").value(model::iso_instant(m.received_ms));
  w.key("channel").value(m.channel).key("peer").value(m.sender).key("kind").value(m.kind);
  w.key("bytes").value(
      static_cast<std::int64_t>(m.received_bytes > 0 ? m.received_bytes : m.body.size()));
  w.key("truncated").value(!m.digest.empty()).key("digest").value(m.digest);
  w.key("body").value(m.body).end_object();
  return text;
}

claims_view::lookup claims_view::fhir_resource_json(std::string_view type, std::string_view id,
                                                    std::string& out) {
  const std::string resource = std::string(type) + "/" + std::string(id);
  std::optional<std::string> encoded;
  gate_.read([&](const store::sqlite_store& store) { encoded = store.facts_of(resource); });
  return encoded ? fhir_resource_of(type, id, *encoded, out) : lookup::unknown;
}

claims_view::lookup claims_view::fhir_resource_of(std::string_view type, std::string_view id,
                                                  std::string_view encoded, std::string& out) {
  std::vector<model::fact> facts;
  if (!model::decode_facts(encoded, facts) || facts.empty()) return lookup::unknown;
  if (std::holds_alternative<model::retraction>(facts.front())) return lookup::retracted;
  fhir_resource(out, type, id, facts);
  return lookup::found;
}

namespace {

/// The string member `name` of `object`, or nullopt when it is absent or not a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return std::nullopt;
  return std::string_view(member->value.GetString(), member->value.GetStringLength());
}

/// The object member `name` of `object`, or a null value when it is absent.
const rapidjson::Value& object_member(const rapidjson::Value& object, const char* name) {
  static const rapidjson::Value none;
  if (!object.IsObject()) return none;
  const auto member = object.FindMember(name);
  return member == object.MemberEnd() ? none : member->value;
}

}  // namespace

claim_names names_of_claim_json(std::string_view claim_json) {
  rapidjson::Document doc;
  doc.Parse(claim_json.data(), claim_json.size());
  if (doc.HasParseError()) return {};
  const rapidjson::Value& root = doc;
  claim_names names;
  if (const auto patient = string_member(object_member(root, "current"), "patient")) {
    names.patient = *patient;
  }
  const auto& claim = object_member(root, "claim");
  if (const auto id = string_member(claim, "id")) {
    const auto npi = string_member(object_member(claim, "billing"), "npi");
    names.key = model::claim_key(*id, npi.value_or(std::string_view{}));
  }
  return names;
}

}  // namespace covgate::server
