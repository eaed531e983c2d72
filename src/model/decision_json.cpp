#include "covgate/model/decision_json.hpp"

#include "covgate/model/json_writer.hpp"

namespace covgate::model {

void append_json(std::string& out, const decision& d, std::string_view event,
                 std::string_view source) {
  json_writer w(out);
  w.begin_object();
  w.key("event").value(event);
  w.key("claim_id").value(d.claim_id);
  w.key("patient").value(d.patient);
  w.key("dos").value(d.dos.iso());
  w.key("policy").value(d.policy);
  w.key("outcome").value(name(d.result));
  w.key("reasons").begin_array();
  for (const auto& f : d.findings) {
    w.begin_object();
    w.key("code").value(f.code());
    w.key("line").value(static_cast<std::int64_t>(f.line));
    w.key("stc").value({f.category(), ":", f.status()});
    w.key("message").value({f.message(), f.detail.empty() ? "" : " ", f.detail});
    if (!f.facts_used.empty()) {
      w.key("facts").begin_array();
      for (const auto& id : f.facts_used) w.value(id);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.key("source").value(source);
  w.end_object();
}

}  // namespace covgate::model
