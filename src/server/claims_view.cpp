#include "covgate/server/claims_view.hpp"

#include "covgate/model/decision_json.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::server {

std::string claims_view::worklist_json(model::outcome result, std::string_view after,
                                       std::size_t limit) {
  std::string out;
  gate_.read([&](const store::sqlite_store& store) {
    const auto rows = store.claims_with(result, after, limit);
    model::json_writer w(out);
    w.begin_object().key("outcome").value(model::name(result)).key("claims").begin_array();
    for (const auto& row : rows) {
      const auto record = store.load(row.id);
      if (!record) continue;
      w.begin_object().key("id").value(row.id).key("dos").value(record->decision.dos.iso());
      w.key("reasons").begin_array();
      for (const auto& f : record->decision.findings) w.value(f.code());
      w.end_array().end_object();
    }
    w.end_array();
    if (rows.size() == limit && !rows.empty()) {
      w.key("next").value(rows.back().id);
    } else {
      w.key("next").null();
    }
    w.end_object();
  });
  return out;
}

std::optional<std::string> claims_view::claim_json(std::string_view claim_id) {
  std::optional<std::string> out;
  gate_.read([&](const store::sqlite_store& store) {
    const auto record = store.load(claim_id);
    if (!record) return;
    std::string text = "{\"current\":";
    model::append_json(text, record->decision, record->closed ? "closed" : "current",
                       record->source);
    text += ",\"history\":[";
    bool first = true;
    for (const auto& h : store.history(claim_id)) {
      if (!first) text += ',';
      first = false;
      model::json_writer w(text);
      w.begin_object().key("sequence").value(std::int64_t{h.sequence});
      w.key("at_ms").value(h.at_ms);
      if (!h.note.empty()) w.key("note").value(h.note);
      w.key("decision");
      std::string line;
      model::append_json(line, h.decision, h.kind, h.source);
      w.raw(line).end_object();
    }
    text += "]}";
    out = std::move(text);
  });
  return out;
}

}  // namespace covgate::server
