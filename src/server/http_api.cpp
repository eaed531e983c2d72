#include "covgate/server/http_api.hpp"

#include <rapidjson/document.h>

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <future>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <variant>

#include "covgate/model/boundary.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/audit.hpp"
#include "covgate/server/build_info.hpp"
#include "covgate/server/log.hpp"
#include "covgate/server/outbox_api.hpp"
#include "covgate/server/web_assets.hpp"
#include "http_replies.hpp"

namespace covgate::server {
namespace {

using http_replies::answering_failures;
using http_replies::json;
using http_replies::problem;
using http_replies::query_value;
using http_replies::whole;

// An OperationOutcome with one issue, for errors the FHIR reader never saw.
http_response outcome(unsigned status, std::string_view code, std::string_view diagnostics) {
  std::string body;
  model::json_writer w(body);
  w.begin_object().key("resourceType").value("OperationOutcome").key("issue").begin_array();
  w.begin_object().key("severity").value("error").key("code").value(code);
  w.key("diagnostics").value(diagnostics).end_object().end_array().end_object();
  return {status, "application/fhir+json", std::move(body), {}};
}

// The path's segments, each percent-decoded once (a claim id may hold '/', '?' or a space);
// nullopt when a segment is badly encoded or not UTF-8.
std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    if (end > start) {
      auto segment = boundary::percent_decode(path.substr(start, end - start));
      if (!segment) return std::nullopt;
      parts.push_back(std::move(*segment));
    }
    start = end + 1;
  }
  return parts;
}

// True when `header` starts with the auth-scheme `scheme` and a space (schemes are
// case-insensitive, RFC 9110 11.1).
bool has_scheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(header[i]) != lower(scheme[i])) return false;
  }
  return true;
}

}  // namespace

bool needs_token(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  return path != "/healthz" && path != "/readyz" && web_asset_at(path) == nullptr;
}

const bearer_token* authorized(std::string_view authorization,
                               const std::vector<bearer_token>& tokens) {
  static const bearer_token anyone{};
  if (tokens.empty()) return &anyone;
  constexpr std::string_view scheme = "Bearer";
  if (!has_scheme(authorization, scheme)) return nullptr;
  std::string_view presented = authorization.substr(scheme.size() + 1);
  presented.remove_prefix(std::min(presented.find_first_not_of(' '), presented.size()));
  // Compare every token in full, whatever matches, so timing says nothing about the tokens.
  const bearer_token* match = nullptr;
  for (const auto& token : tokens) {
    const auto& t = token.secret;
    unsigned diff = t.size() != presented.size() ? 1u : 0u;
    for (std::size_t i = 0; i < t.size(); ++i) {
      diff |= static_cast<unsigned char>(t[i]) ^
              static_cast<unsigned char>(i < presented.size() ? presented[i] : 0);
    }
    if (diff == 0 && match == nullptr) match = &token;
  }
  return match;
}

namespace {

std::string capability_statement() {
  std::string body;
  model::json_writer w(body);
  w.begin_object().key("resourceType").value("CapabilityStatement");
  w.key("status").value("active").key("date").value("2026-11-28").key("kind").value("instance");
  w.key("fhirVersion").value("4.0.1").key("format").begin_array();
  w.value("application/fhir+json").value("application/fhir+xml").end_array();
  w.key("software").begin_object().key("name").value("covgate");
  w.key("version").value({version(), " (", revision(), ")"}).end_object();
  w.key("implementation").begin_object();
  w.key("description")
      .value(
          "Coverage gate for infusion-pump claims: accepts clinical resources that feed the NCD "
          "223 "
          "evaluation. Resources are mapped to facts and journaled; read returns the elements "
          "covgate kept (tagged urn:covgate|facts), not the resource as sent.");
  w.end_object();
  w.key("rest").begin_array().begin_object().key("mode").value("server");
  w.key("interaction").begin_array();
  w.begin_object().key("code").value("transaction").end_object();
  w.begin_object().key("code").value("batch").end_object();
  w.end_array();
  w.key("resource").begin_array();
  for (const char* type :
       {"Observation", "Encounter", "Patient", "Practitioner", "PractitionerRole", "Condition"}) {
    w.begin_object().key("type").value(type).key("interaction").begin_array();
    w.begin_object().key("code").value("create").end_object();
    w.begin_object().key("code").value("update").end_object();
    w.begin_object().key("code").value("read").end_object();
    w.end_array().end_object();
  }
  w.end_array().end_object().end_array().end_object();
  return body;
}

// What a request Bundle holds, to build its response Bundle.
struct bundle_shape {
  std::string type;
  std::vector<std::pair<std::string, std::string>> entries;  // (resourceType, id)
};

bool looks_like_xml(std::string_view body) {
  const auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '<';
}

// (resourceType, id) of a JSON resource.
std::pair<std::string, std::string> identity_of(const rapidjson::Value& r) {
  std::pair<std::string, std::string> out;
  if (!r.IsObject()) return out;
  if (const auto t = r.FindMember("resourceType"); t != r.MemberEnd() && t->value.IsString()) {
    out.first = t->value.GetString();
  }
  if (const auto i = r.FindMember("id"); i != r.MemberEnd() && i->value.IsString()) {
    out.second = i->value.GetString();
  }
  return out;
}

// (resourceType, id) of an XML resource: the element's name and its <id value="…"/>.
std::pair<std::string, std::string> identity_of(const pugi::xml_node& r) {
  return {r.name(), r.child("id").attribute("value").value()};
}

// The parsed body, JSON or XML (FHIR's two formats); nothing for anything else.
struct parsed_body {
  rapidjson::Document json;
  pugi::xml_document xml;
  bool is_xml = false;
  bool ok = false;
  explicit parsed_body(std::string_view body) : is_xml(looks_like_xml(body)) {
    if (is_xml) {
      ok = xml.load_buffer(body.data(), body.size(), pugi::parse_default) &&
           xml.document_element().type() == pugi::node_element;
    } else {
      json.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
      ok = !json.HasParseError() && json.IsObject();
    }
  }
};

std::optional<bundle_shape> shape_of(std::string_view body) {
  const parsed_body parsed(body);
  if (!parsed.ok) return std::nullopt;
  bundle_shape shape;
  if (parsed.is_xml) {
    const auto bundle = parsed.xml.document_element();
    if (std::string_view(bundle.name()) != "Bundle") return std::nullopt;
    shape.type = bundle.child("type").attribute("value").value();
    for (const auto entry : bundle.children("entry")) {
      shape.entries.push_back(identity_of(entry.child("resource").first_child()));
    }
    return shape;
  }
  const auto& d = parsed.json;
  if (identity_of(d).first != "Bundle") return std::nullopt;
  if (const auto t = d.FindMember("type"); t != d.MemberEnd() && t->value.IsString()) {
    shape.type = t->value.GetString();
  }
  if (const auto e = d.FindMember("entry"); e != d.MemberEnd() && e->value.IsArray()) {
    for (const auto& entry : e->value.GetArray()) {
      std::pair<std::string, std::string> item;
      if (entry.IsObject()) {
        if (const auto r = entry.FindMember("resource"); r != entry.MemberEnd()) {
          item = identity_of(r->value);
        }
      }
      shape.entries.push_back(std::move(item));
    }
  }
  return shape;
}

// (resourceType, id) of a single resource, JSON or XML; empty when it does not parse (the
// service's reader then says why).
std::pair<std::string, std::string> identity_of(std::string_view body) {
  const parsed_body parsed(body);
  if (!parsed.ok) return {};
  return parsed.is_xml ? identity_of(parsed.xml.document_element()) : identity_of(parsed.json);
}

http_log_note note_of(const reply& r) {
  http_log_note n;
  n.journal_id = r.journal_id;
  n.claims = r.claims;
  n.facts = r.facts;
  n.outcome = std::string(outcome_name(r));
  return n;
}

// Not taken: not durable (503: send it again) or refused as sent by a cluster front (422).
std::optional<http_response> not_taken(const reply& r) {
  if (!r.durable) {
    auto response =
        problem(503, r.problem.empty() ? "the store is unavailable; the message was not accepted"
                                       : r.problem);
    response.note = note_of(r);
    return response;
  }
  if (r.refused) {
    auto response = problem(422, r.problem);
    response.note = note_of(r);
    return response;
  }
  return std::nullopt;
}

http_response from_reply(const reply& r, unsigned ok_status) {
  if (auto refusal = not_taken(r)) return *std::move(refusal);
  // HL7 v2 ACKs carry their own verdict (AE, AR): the HTTP status says they are the answer.
  const bool refused = r.rejected && r.kind != engine::payload_kind::hl7v2;
  return {refused ? 400u : ok_status, std::string(r.content_type), r.body, {}, note_of(r)};
}

using respond = std::function<void(http_response)>;

http_response bundle_response(const bundle_shape& shape, const reply& r);

// A FHIR type or id from a URL or a body must be what the id datatype allows before it goes
// anywhere (the Location header, the journal's source, JSON answers).
bool valid_type(std::string_view type) {
  if (type.empty() || type.size() > 64 || type[0] < 'A' || type[0] > 'Z') return false;
  return std::all_of(type.begin(), type.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
}

void post_bundle(service& svc, http_request& req, respond done) {
  auto shape = shape_of(req.body);
  if (!shape || (shape->type != "transaction" && shape->type != "batch")) {
    return done(outcome(400, "invalid",
                        "POST /fhir takes a Bundle of type transaction or batch (single "
                        "resources, and collection or message Bundles, go to POST /fhir/{type})"));
  }
  // The response has one entry per request entry: cap them so its size stays bounded.
  const auto limit = svc.config().http.max_bundle_entries;
  if (shape->entries.size() > limit) {
    return done(outcome(400, "too-costly",
                        "the Bundle has " + std::to_string(shape->entries.size()) +
                            " entries; the limit is " + std::to_string(limit) +
                            " (http.max_bundle_entries)"));
  }
  svc.messages().submit(std::move(req.body), "http", req.peer,
                        [shape = std::move(*shape), done = std::move(done)](reply r) {
                          done(bundle_response(shape, r));
                        });
}

// The entry an issue concerns, from its FHIRPath ("Bundle.entry[12].resource.status").
std::optional<std::size_t> entry_of(std::string_view expression) {
  constexpr std::string_view prefix = "Bundle.entry[";
  if (expression.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::size_t index = 0;
  const auto* first = expression.data() + prefix.size();
  const auto* last = expression.data() + expression.size();
  const auto [end, ec] = std::from_chars(first, last, index);
  if (ec != std::errc{} || end == last || *end != ']') return std::nullopt;
  return index;
}

// Each failed entry's own issues, as an OperationOutcome per entry: one pass over the
// message's OperationOutcome, so the response grows with the request, not with its square.
std::unordered_map<std::size_t, std::string> outcomes_by_entry(std::string_view outcome_json) {
  std::unordered_map<std::size_t, std::string> out;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(outcome_json.data(), outcome_json.size());
  if (d.HasParseError() || !d.IsObject()) return out;
  const auto issues = d.FindMember("issue");
  if (issues == d.MemberEnd() || !issues->value.IsArray()) return out;
  std::unordered_map<std::size_t, std::vector<const rapidjson::Value*>> grouped;
  std::vector<std::size_t> order;
  for (const auto& issue : issues->value.GetArray()) {
    const auto severity = issue.FindMember("severity");
    if (severity == issue.MemberEnd() || !severity->value.IsString()) continue;
    const std::string_view level = severity->value.GetString();
    if (level != "error" && level != "fatal") continue;
    const auto expression = issue.FindMember("expression");
    if (expression == issue.MemberEnd() || !expression->value.IsArray() ||
        expression->value.Empty() || !expression->value[0].IsString()) {
      continue;
    }
    const auto entry = entry_of(expression->value[0].GetString());
    if (!entry) continue;
    auto& list = grouped[*entry];
    if (list.empty()) order.push_back(*entry);
    list.push_back(&issue);
  }
  for (const auto entry : order) {
    std::string body;
    model::json_writer w(body);
    w.begin_object().key("resourceType").value("OperationOutcome").key("issue").begin_array();
    for (const auto* issue : grouped[entry]) {
      w.begin_object();
      for (const char* field : {"severity", "code", "diagnostics"}) {
        if (const auto m = issue->FindMember(field);
            m != issue->MemberEnd() && m->value.IsString()) {
          w.key(field).value(std::string_view(m->value.GetString(), m->value.GetStringLength()));
        }
      }
      const auto& expression = (*issue)["expression"][0];
      w.key("expression").begin_array();
      w.value(std::string_view(expression.GetString(), expression.GetStringLength()));
      w.end_array().end_object();
    }
    w.end_array().end_object();
    out.emplace(entry, std::move(body));
  }
  return out;
}

http_response bundle_response(const bundle_shape& shape, const reply& r) {
  if (auto refusal = not_taken(r)) return *std::move(refusal);
  if (r.rejected && shape.type == "transaction") {
    return {400, "application/fhir+json", r.body, {}, note_of(r)};
  }
  const auto failed =
      r.rejected ? outcomes_by_entry(r.body) : std::unordered_map<std::size_t, std::string>{};
  std::string body;
  model::json_writer w(body);
  w.begin_object().key("resourceType").value("Bundle");
  w.key("type").value(shape.type + "-response").key("entry").begin_array();
  for (std::size_t i = 0; i < shape.entries.size(); ++i) {
    const auto& [type, id] = shape.entries[i];
    w.begin_object().key("response").begin_object();
    if (const auto it = failed.find(i); it != failed.end()) {
      w.key("status").value("400 Bad Request").key("outcome").raw(it->second);
    } else {
      w.key("status").value("201 Created");
      if (valid_type(type)) {
        w.key("location").value(boundary::fhir_id(id) ? type + "/" + id : type);
      }
    }
    w.end_object().end_object();
  }
  w.end_array().end_object();
  return {200, "application/fhir+json", std::move(body), {}, note_of(r)};
}

void put_resource(service& svc, http_request& req, std::string_view type, std::string_view id,
                  respond done) {
  if (!valid_type(type)) {
    return done(outcome(400, "invalid", "the URL's resource type is not a FHIR type name"));
  }
  if (engine::sniff(req.body) != engine::payload_kind::fhir) {
    return done(outcome(415, "not-supported",
                        "the FHIR routes take a FHIR resource in JSON or XML (X12 goes to POST "
                        "/x12, HL7 v2 to POST /hl7v2)"));
  }
  if (!id.empty() && !boundary::fhir_id(id)) {
    return done(outcome(400, "invalid",
                        "the URL's id is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters)"));
  }
  const auto [body_type, body_id] = identity_of(req.body);
  if (!body_type.empty()) {
    if (body_type != type) {
      return done(outcome(
          400, "invalid",
          "the resource's resourceType does not match the URL (" + std::string(type) + ")"));
    }
    if (!id.empty() && body_id != id) {
      return done(outcome(400, "invalid", "the resource's id does not match the URL"));
    }
    if (!body_id.empty() && !boundary::fhir_id(body_id)) {
      return done(
          outcome(400, "invalid",
                  "the resource's id is not a FHIR id ([A-Za-z0-9-.], 1 to 64 characters)"));
    }
    if (body_type == "Bundle") {
      // A collection, message or document Bundle is a resource of its own (FHIR: create);
      // transactions and batches are processed at the base.
      const auto shape = shape_of(req.body);
      if (shape && (shape->type == "transaction" || shape->type == "batch")) {
        return done(outcome(400, "invalid", "transaction and batch Bundles go to POST /fhir"));
      }
    }
  }
  // Only validated type and id characters reach the Location header.
  std::string location = "/fhir/" + std::string(type) + "/";
  location += id.empty() ? body_id : std::string(id);
  svc.messages().submit(std::move(req.body), "http", req.peer,
                        [location, created = id.empty(), done = std::move(done)](reply r) mutable {
                          auto response = from_reply(r, created ? 201 : 200);
                          if (response.status < 300) {
                            if (location.back() == '/')
                              location += "journal-" + std::to_string(r.journal_id);
                            response.headers.emplace_back("Location", location);
                            response.content_type = "application/fhir+json";
                          }
                          done(std::move(response));
                        });
}

// The body of a reviewer's action: {"reason": "...", "by": "..."} or, in bulk, with "ids":
// [...]. Parsed without recursion (a body of 200,000 '[' must not reach the stack). The
// reviewer is the token's name; "by" counts only when no tokens are configured (then there
// is no identity to take). nullopt when the body is anything else.
struct review_request {
  std::string who;
  std::string why;
  std::vector<std::string> ids;
};

// How a request names a claim: its CLM01 (the {id} of /claims/{id}), and its billing
// provider's NPI (?billing_npi=) when two providers sent that CLM01. The reference is the
// claim's key (model::claim_key) when the NPI is given, the CLM01 alone otherwise; nullopt
// for an empty id or a control character in either (a key's separator is one).
std::optional<std::string> claim_reference(std::string_view clm01,
                                           std::optional<std::string_view> billing_npi) {
  const auto printable = [](std::string_view text) {
    return std::none_of(text.begin(), text.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  };
  if (clm01.empty() || !printable(clm01)) return std::nullopt;
  if (!billing_npi) return std::string(clm01);
  if (!printable(*billing_npi)) return std::nullopt;
  return model::claim_key(clm01, *billing_npi);
}

std::optional<review_request> review_body(std::string_view body, std::string_view token_name,
                                          bool bulk, std::size_t max_ids) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  const auto text = [&](const char* name) -> std::string {
    const auto m = d.FindMember(name);
    return m != d.MemberEnd() && m->value.IsString()
               ? std::string(m->value.GetString(), m->value.GetStringLength())
               : std::string();
  };
  review_request r;
  r.who = token_name.empty() ? text("by") : std::string(token_name);
  if (r.who.empty()) r.who = "anonymous";
  r.why = text("reason");
  if (r.why.empty() || r.who.size() > 256 || r.why.size() > 4096) return std::nullopt;
  if (bulk) {
    const auto ids = d.FindMember("ids");
    if (ids == d.MemberEnd() || !ids->value.IsArray() || ids->value.Empty() ||
        ids->value.Size() > max_ids) {
      return std::nullopt;
    }
    // A claim by its CLM01, or {"id": CLM01, "billing_npi": NPI} when two billing providers
    // sent that CLM01.
    for (const auto& id : ids->value.GetArray()) {
      std::string_view clm01;
      std::optional<std::string_view> npi;
      if (id.IsString()) {
        clm01 = {id.GetString(), id.GetStringLength()};
      } else if (id.IsObject()) {
        const auto i = id.FindMember("id");
        if (i == id.MemberEnd() || !i->value.IsString()) return std::nullopt;
        clm01 = {i->value.GetString(), i->value.GetStringLength()};
        if (const auto n = id.FindMember("billing_npi"); n != id.MemberEnd()) {
          if (!n->value.IsString()) return std::nullopt;
          npi = std::string_view(n->value.GetString(), n->value.GetStringLength());
        }
      } else {
        return std::nullopt;
      }
      auto reference = claim_reference(clm01, npi);
      if (!reference) return std::nullopt;
      r.ids.push_back(std::move(*reference));
    }
  }
  return r;
}

std::string_view status_word(review_status s) {
  switch (s) {
    case review_status::done:
      return "done";
    case review_status::unknown_claim:
      return "unknown";
    case review_status::already_closed:
      return "closed";
    case review_status::not_reviewable:
      return "not-reviewable";
    case review_status::ambiguous:
      return "ambiguous";
    case review_status::unavailable:
      return "unavailable";
  }
  return "unavailable";
}

// A reference (claim_reference) as this process's store resolves it: the one claim's key, or
// the status that answers it (none: unknown; a CLM01 of several billing providers: ambiguous).
std::variant<std::string, review_status> resolve_claim(service& svc, std::string_view reference) {
  auto keys = svc.claims().claim_keys_for(reference);
  if (keys.empty()) return review_status::unknown_claim;
  if (keys.size() > 1) return review_status::ambiguous;
  return std::move(keys.front());
}

// 409 for a CLM01 that several billing providers sent: the NPIs to choose from.
http_response ambiguous_claim(std::string_view npis) {
  return problem(409, "several billing providers sent a claim with this id (billing NPIs " +
                          std::string(npis) + "): name one with ?billing_npi=");
}

// The billing NPIs of the claims of `clm01` this process's store holds, ", " between them.
std::string billing_npis_of(service& svc, std::string_view clm01) {
  std::string npis;
  for (const auto& key : svc.claims().claim_keys_for(clm01)) {
    npis.append(npis.empty() ? "" : ", ").append(model::split_claim_key(key).billing_npi);
  }
  return npis;
}

// Every parameter name of a query string is one of `known`.
std::optional<std::string> unknown_parameter(std::string_view query,
                                             std::initializer_list<std::string_view> known) {
  std::size_t start = 0;
  while (start < query.size()) {
    const auto end = std::min(query.find('&', start), query.size());
    const auto pair = query.substr(start, end - start);
    const auto name = pair.substr(0, pair.find('='));
    if (!name.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      return boundary::percent_decode(name, true).value_or("?");
    }
    start = end + 1;
  }
  return std::nullopt;
}

constexpr std::int64_t day_ms = 86'400'000;

// GET /claims: the query string as a store::claim_query, or the 400 saying what is wrong.
std::variant<store::claim_query, http_response> list_query(service& svc, std::string_view query,
                                                           std::int64_t now) {
  if (const auto bad =
          unknown_parameter(query, {"queue", "outcome", "reason", "patient", "provider", "sender",
                                    "dos_from", "dos_to", "min_age_days", "max_age_days",
                                    "released_hours", "sort", "limit", "after"})) {
    return problem(400, "unknown parameter '" + *bad +
                            "' (queue, outcome, reason, patient, provider, sender, dos_from, "
                            "dos_to, min_age_days, max_age_days, released_hours, sort, limit, "
                            "after)");
  }
  const auto& limits = svc.config().worklist;
  store::claim_query q;
  const auto queue_text = query_value(query, "queue");
  const auto outcome_text = query_value(query, "outcome");
  if (queue_text) {
    const auto named = queue_named(*queue_text);
    if (!named) {
      return problem(400,
                     "queue must be one of documentation, review, not-covered, invalid, released");
    }
    switch (*named) {
      case queue::documentation:
        q.result = model::outcome::hold_documentation;
        break;
      case queue::review:
        q.result = model::outcome::hold_review;
        break;
      case queue::not_covered:
        q.result = model::outcome::hold_not_covered;
        break;
      case queue::invalid:
        q.result = model::outcome::hold_invalid;
        break;
      case queue::released: {
        std::int64_t hours = limits.released_window_hours;
        if (const auto h = query_value(query, "released_hours")) {
          const auto n = whole(*h, 1, 24 * 366);
          if (!n) return problem(400, "released_hours must be 1 to 8784");
          hours = *n;
        }
        q.released_since_ms = now - hours * 3'600'000;
        break;
      }
    }
  } else {
    const auto named = model::outcome_named(outcome_text.value_or(""));
    if (!named) {
      return problem(400,
                     "outcome must be one of release, hold:documentation, hold:review, "
                     "hold:not-covered, hold:invalid (or queue=documentation|review|"
                     "not-covered|invalid|released)");
    }
    q.result = *named;
  }
  if (const auto r = query_value(query, "reason"); r && !r->empty()) {
    q.reason = model::reason_named(*r);
    if (!q.reason) return problem(400, "reason must be a reason code (docs/policy.md)");
  }
  q.patient = query_value(query, "patient").value_or("");
  q.provider = query_value(query, "provider").value_or("");
  q.sender = query_value(query, "sender").value_or("");
  for (const auto& [name, out] : {std::pair{"dos_from", &q.dos_from}, {"dos_to", &q.dos_to}}) {
    if (const auto d = query_value(query, name); d && !d->empty()) {
      if (!model::parse_iso_date(*d)) {
        return problem(400, std::string(name) + " must be a date YYYY-MM-DD");
      }
      *out = *d;
    }
  }
  if (const auto a = query_value(query, "min_age_days"); a && !a->empty()) {
    const auto n = whole(*a, 0, 36'500);
    if (!n) return problem(400, "min_age_days must be 0 to 36500");
    q.since_at_most_ms = now - *n * day_ms;
  }
  if (const auto a = query_value(query, "max_age_days"); a && !a->empty()) {
    const auto n = whole(*a, 0, 36'500);
    if (!n) return problem(400, "max_age_days must be 0 to 36500");
    q.since_at_least_ms = now - *n * day_ms;
  }
  if (const auto sort = query_value(query, "sort"); sort && !sort->empty()) {
    std::string_view key = *sort;
    if (key.front() == '-') {
      q.descending = true;
      key.remove_prefix(1);
    }
    static constexpr std::pair<std::string_view, store::claim_sort> keys[] = {
        {"id", store::claim_sort::id},
        {"patient", store::claim_sort::patient},
        {"name", store::claim_sort::name},
        {"dos", store::claim_sort::dos},
        {"outcome", store::claim_sort::outcome},
        {"reason", store::claim_sort::reason},
        {"provider", store::claim_sort::provider},
        {"sender", store::claim_sort::sender},
        {"charge", store::claim_sort::charge},
        {"since", store::claim_sort::since},
        {"updated", store::claim_sort::updated},
        {"events", store::claim_sort::events}};
    const auto* found = std::find_if(std::begin(keys), std::end(keys),
                                     [&](const auto& k) { return k.first == key; });
    if (found == std::end(keys)) {
      return problem(400,
                     "sort must be one of id, patient, name, dos, outcome, reason, provider, "
                     "sender, charge, since, updated, events (a leading '-' for descending)");
    }
    q.sort = found->second;
  }
  q.limit = 100;
  if (const auto l = query_value(query, "limit")) {
    const auto n = whole(*l, 1, static_cast<std::int64_t>(limits.max_page));
    if (!n) {
      return problem(
          400, "limit must be 1 to " + std::to_string(limits.max_page) + " (worklist.max_page)");
    }
    q.limit = static_cast<std::size_t>(*n);
  }
  if (const auto after = query_value(query, "after"); after && !after->empty()) {
    q.after = claims_view::read_cursor(*after, q.sort);
    if (!q.after) return problem(400, "after must be the 'next' of the previous page");
  }
  return q;
}

// What a reviewer's action on the claim `reference` names came to (the claim by its hash
// only in the request's log line).
void answer_review(service& svc, const std::string& reference, bool release, review_status status,
                   const respond& done) {
  const auto noted = [&](http_response response, std::string_view outcome) {
    response.note.outcome = std::string(outcome);
    response.note.claim = log_hash(model::split_claim_key(reference).clm01);  // one hash a claim
    done(std::move(response));
  };
  switch (status) {
    case review_status::done: {
      // The claim as it stands now: from this store, or on a cluster front (which keeps
      // none) from its holder, asked again.
      std::string claim;
      if (auto* elsewhere = svc.claim_lookup()) {
        auto [how, body] = elsewhere->find_claim(reference);
        if (how == claim_lookup_port::found::yes) claim = std::move(body);
      } else {
        claim = svc.claims().claim_json(reference, durable_gate::now_ms()).value_or("");
      }
      return noted(json(200, claim.empty() ? std::string("{}") : std::move(claim)),
                   release ? "released" : "cancelled");
    }
    case review_status::unknown_claim:
      return noted(problem(404, "no such claim"), "unknown-claim");
    case review_status::already_closed:
      return noted(problem(409,
                           "the claim is closed (cancelled, voided or replaced): it takes "
                           "no more actions"),
                   "already-closed");
    case review_status::not_reviewable:
      return noted(problem(409,
                           "only review, not-covered and invalid holds take "
                           "a reviewer's action; documentation holds leave "
                           "when their evidence arrives"),
                   "not-reviewable");
    case review_status::ambiguous: {
      // On a cluster front the lookup names the providers; here, the store.
      std::string npis;
      if (auto* elsewhere = svc.claim_lookup()) {
        npis = elsewhere->find_claim(reference).second;
      } else {
        npis = billing_npis_of(svc, model::split_claim_key(reference).clm01);
      }
      return noted(ambiguous_claim(npis), "ambiguous");
    }
    case review_status::unavailable:
      return noted(problem(503, "the store is unavailable"), "unavailable");
  }
}

void review_one(service& svc, const std::string& reference, bool release, const review_request& r,
                respond done) {
  // In this process's store the reference becomes its claim's key first; a cluster front
  // passes it on, and the claim's holder answers for it.
  std::string id = reference;
  if (svc.claim_lookup() == nullptr) {
    auto resolved = resolve_claim(svc, reference);
    if (const auto* status = std::get_if<review_status>(&resolved)) {
      return answer_review(svc, reference, release, *status, done);
    }
    id = std::move(std::get<std::string>(resolved));
  }
  svc.reviews().review(
      id, release, r.who, r.why, [&svc, id, release, done = std::move(done)](review_status status) {
        // On the committer's thread: the answer reads the claim again.
        answering_failures(done, [&] { answer_review(svc, id, release, status, done); });
      });
}

// Bulk: every claim is reviewed in turn (they commit together); the answer lists each
// claim's result once all are durable.
void review_many(service& svc, const review_request& r, bool release, respond done) {
  struct shared {
    std::mutex mutex;
    std::vector<review_status> results;
    std::size_t left = 0;
    std::vector<std::string> ids;
    respond done;
  };
  auto state = std::make_shared<shared>();
  state->results.resize(r.ids.size(), review_status::unavailable);
  state->left = r.ids.size();
  state->ids = r.ids;
  state->done = std::move(done);
  const auto finished = [state](std::size_t i, review_status status) {
    std::unique_lock lock(state->mutex);
    state->results[i] = status;
    if (--state->left > 0) return;
    lock.unlock();
    std::string body;
    model::json_writer w(body);
    w.begin_object().key("results").begin_array();
    std::int64_t ok = 0;
    for (std::size_t k = 0; k < state->ids.size(); ++k) {
      ok += state->results[k] == review_status::done ? 1 : 0;
      const auto named = model::split_claim_key(state->ids[k]);
      w.begin_object().key("id").value(named.clm01);
      if (!named.billing_npi.empty()) w.key("billing_npi").value(named.billing_npi);
      w.key("status").value(status_word(state->results[k])).end_object();
    }
    w.end_array().key("done").value(ok).end_object();
    const bool unavailable = std::any_of(state->results.begin(), state->results.end(),
                                         [](auto s) { return s == review_status::unavailable; });
    state->done(json(unavailable ? 503 : 200, std::move(body)));
  };
  for (std::size_t i = 0; i < r.ids.size(); ++i) {
    std::string id = r.ids[i];
    if (svc.claim_lookup() == nullptr) {  // as review_one: resolved in this process's store
      auto resolved = resolve_claim(svc, id);
      if (const auto* status = std::get_if<review_status>(&resolved)) {
        finished(i, *status);
        continue;
      }
      id = std::move(std::get<std::string>(resolved));
    }
    svc.reviews().review(id, release, r.who, r.why,
                         [finished, i](review_status status) { finished(i, status); });
  }
}

void route_claims(service& svc, const http_request& req, const std::vector<std::string>& parts,
                  std::string_view query, std::string_view token_name, respond done) {
  const auto now = durable_gate::now_ms();
  if (parts.size() == 1) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    auto q = list_query(svc, query, now);
    if (auto* bad = std::get_if<http_response>(&q)) return done(std::move(*bad));
    if (auto* elsewhere = svc.claim_lookup()) {  // a cluster front: every worker's page merged
      auto [how, body] = elsewhere->find_list(std::get<store::claim_query>(q), now);
      return done(how == claim_lookup_port::found::yes ? json(200, std::move(body))
                                                       : problem(503, body));
    }
    return done(json(200, svc.claims().list_json(std::get<store::claim_query>(q), now)));
  }
  if (parts.size() == 2 && req.method == "POST" &&
      (parts[1] == "release" || parts[1] == "cancel")) {
    const auto max = svc.config().worklist.max_bulk;
    const auto body = review_body(req.body, token_name, true, max);
    if (!body) {
      return done(
          problem(400, "a bulk action takes {\"ids\": [\"…\"], \"reason\": \"…\"} with 1 to " +
                           std::to_string(max) +
                           " ids (worklist.max_bulk) and a reason of at most 4096 bytes"));
    }
    return review_many(svc, *body, parts[1] == "release", std::move(done));
  }
  const auto named = claim_reference(parts[1], query_value(query, "billing_npi"));
  if (!named) {
    return done(problem(400, "a claim id and its billing_npi hold no control character"));
  }
  if (parts.size() == 2) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    if (auto* elsewhere = svc.claim_lookup()) {
      auto [how, body] = elsewhere->find_claim(*named);
      switch (how) {
        case claim_lookup_port::found::yes:
          return done(json(200, std::move(body)));
        case claim_lookup_port::found::no:
        case claim_lookup_port::found::gone:  // a claim is never retracted so
          return done(problem(404, "no such claim"));
        case claim_lookup_port::found::ambiguous:
          return done(ambiguous_claim(body));
        case claim_lookup_port::found::unavailable:
          break;
      }
      return done(problem(503, body.empty()
                                   ? std::string("the claim's holder could not be asked; ask again")
                                   : std::move(body)));
    }
    const auto resolved = resolve_claim(svc, *named);
    if (const auto* status = std::get_if<review_status>(&resolved)) {
      return done(*status == review_status::ambiguous
                      ? ambiguous_claim(billing_npis_of(svc, parts[1]))
                      : problem(404, "no such claim"));
    }
    const auto c = svc.claims().claim_json(std::get<std::string>(resolved), now);
    return done(c ? json(200, *c) : problem(404, "no such claim"));
  }
  if (parts.size() == 3 && (parts[2] == "release" || parts[2] == "cancel")) {
    if (req.method != "POST") return done(problem(405, "POST only"));
    const auto body = review_body(req.body, token_name, false, 0);
    if (!body) {
      return done(problem(400,
                          "a reviewer's action takes a JSON object {\"reason\": \"…\"} (at most "
                          "4096 bytes); the reviewer is the token's name"));
    }
    return review_one(svc, *named, parts[2] == "release", *body, std::move(done));
  }
  done(problem(404, "no such route"));
}

// GET /readyz: 200 when every check passes, else 503; each check named in the body.
http_response readiness(service& svc) {
  const bool store = svc.gate().healthy();
  const bool listening = svc.listening();
  std::string body;
  model::json_writer w(body);
  w.begin_object().key("status").value(store && listening ? "ready" : "not ready");
  w.key("store").value(store ? "ok" : "failed");
  // The service exists only once its store was opened and recovered.
  w.key("recovery").value("done");
  w.key("listeners").value(listening ? "bound" : "not accepting");
  w.end_object();
  return json(store && listening ? 200 : 503, std::move(body));
}

// The other worklist routes: queues, charts, changes, who am I, one message, the audit.
bool route_worklist(service& svc, const http_request& req, const std::vector<std::string>& parts,
                    std::string_view query, std::string_view token_name, respond& done) {
  if (parts.empty()) return false;
  const auto& first = parts[0];
  const bool known = first == "queues" || first == "charts" || first == "changes" ||
                     first == "whoami" || first == "messages" || first == "audit" ||
                     first == "identities";
  if (!known) return false;
  if (req.method != "GET") {
    done(problem(405, "GET only"));
    return true;
  }
  const auto now = durable_gate::now_ms();
  const auto& limits = svc.config().worklist;
  if (first == "queues" && parts.size() == 1) {
    std::int64_t hours = limits.released_window_hours;
    if (const auto h = query_value(query, "released_hours")) {
      const auto n = whole(*h, 1, 24 * 366);
      if (!n) {
        done(problem(400, "released_hours must be 1 to 8784"));
        return true;
      }
      hours = *n;
    }
    if (auto* elsewhere = svc.claim_lookup()) {
      auto [how, body] = elsewhere->find_queues(now, hours * 3'600'000);
      done(how == claim_lookup_port::found::yes ? json(200, std::move(body))
                                                : problem(503, std::move(body)));
      return true;
    }
    done(json(200, svc.claims().queues_json(now, hours * 3'600'000)));
  } else if (first == "charts" && parts.size() == 1) {
    std::int64_t days = 30;
    if (const auto d = query_value(query, "days")) {
      const auto n = whole(*d, 1, 366);
      if (!n) {
        done(problem(400, "days must be 1 to 366"));
        return true;
      }
      days = *n;
    }
    if (auto* elsewhere = svc.claim_lookup()) {
      auto [how, body] = elsewhere->find_charts(now, static_cast<int>(days));
      done(how == claim_lookup_port::found::yes ? json(200, std::move(body))
                                                : problem(503, std::move(body)));
      return true;
    }
    done(json(200, svc.claims().charts_json(now, static_cast<int>(days))));
  } else if (first == "changes" && parts.size() == 1) {
    if (auto* elsewhere = svc.claim_lookup()) {
      auto [how, body] = elsewhere->find_changes();
      done(how == claim_lookup_port::found::yes ? json(200, std::move(body))
                                                : problem(503, std::move(body)));
      return true;
    }
    done(json(200, svc.claims().changes_json()));
  } else if (first == "whoami" && parts.size() == 1) {
    std::string body;
    model::json_writer w(body);
    w.begin_object().key("name");
    if (token_name.empty()) {
      w.null();
    } else {
      w.value(token_name);
    }
    w.key("poll_ms").value(limits.poll_ms).key("max_page");
    w.value(static_cast<std::int64_t>(limits.max_page)).key("max_bulk");
    w.value(static_cast<std::int64_t>(limits.max_bulk)).end_object();
    done(json(200, std::move(body)));
  } else if (first == "messages" && parts.size() == 2) {
    const auto id = whole(parts[1], 1, INT64_MAX);
    constexpr std::string_view none = "no such message (unknown, or pruned by retention)";
    if (auto* elsewhere = svc.claim_lookup(); elsewhere != nullptr && id) {
      // A cluster front keeps no message: a claim found through it names its messages by
      // the stream sequence that carried them, and the stream keeps them (docs/cluster.md
      // §5g).
      auto [how, body] = elsewhere->find_message(*id);
      done(how == claim_lookup_port::found::yes  ? json(200, std::move(body))
           : how == claim_lookup_port::found::no ? problem(404, std::string(none))
                                                 : problem(503, std::move(body)));
      return true;
    }
    const auto m = id ? svc.claims().message_json(*id) : std::nullopt;
    done(m ? json(200, *m) : problem(404, std::string(none)));
  } else if (first == "identities" && parts.size() == 2 && parts[1] == "waiting") {
    // A cluster front's listing of the facts that wait on CG_WAIT for their identity to be
    // linked (docs/cluster.md §4); one process keeps such facts in its linker instead.
    auto* elsewhere = svc.claim_lookup();
    if (elsewhere == nullptr) {
      done(problem(404, "messages wait for an identity only in a cluster: ask a front"));
      return true;
    }
    if (const auto bad = unknown_parameter(query, {"limit"})) {
      done(problem(400, "unknown parameter '" + *bad + "' (limit)"));
      return true;
    }
    std::int64_t limit = 100;
    if (const auto l = query_value(query, "limit"); l && !l->empty()) {
      const auto n = whole(*l, 1, static_cast<std::int64_t>(max_waiting_listed));
      if (!n) {
        done(problem(400, "limit must be 1 to " + std::to_string(max_waiting_listed)));
        return true;
      }
      limit = *n;
    }
    auto [how, body] = elsewhere->find_waiting(static_cast<std::size_t>(limit), now);
    done(how == claim_lookup_port::found::yes ? json(200, std::move(body))
                                              : problem(503, std::move(body)));
  } else if (first == "audit" && parts.size() == 2 && parts[1] == "csii") {
    if (const auto bad = unknown_parameter(query, {"as_of", "format"})) {
      done(problem(400, "unknown parameter '" + *bad + "' (as_of, format)"));
      return true;
    }
    model::date as_of = model::date::from_days_since_epoch(static_cast<std::int32_t>(now / day_ms));
    if (const auto a = query_value(query, "as_of"); a && !a->empty()) {
      const auto d = model::parse_iso_date(*a);
      if (!d) {
        done(problem(400, "as_of must be a date YYYY-MM-DD"));
        return true;
      }
      as_of = *d;
    }
    const auto named = audit_format_named(query_value(query, "format").value_or("json"));
    if (!named) {
      done(problem(400, "format must be json, csv or html"));
      return true;
    }
    const auto kind = *named;
    const auto answer = [&](std::string body) -> http_response {
      if (kind == audit_format::csv) return {200, "text/csv; charset=utf-8", std::move(body), {}};
      if (kind == audit_format::html) {
        return {200, "text/html; charset=utf-8", std::move(body), {}};
      }
      return json(200, std::move(body));
    };
    if (auto* elsewhere = svc.claim_lookup()) {
      // A cluster front keeps no patient: each worker sends the rows of its partitions
      // (docs/cluster.md §5h).
      auto [how, body] = elsewhere->find_audit(as_of, kind);
      done(how == claim_lookup_port::found::yes ? answer(std::move(body))
                                                : problem(503, std::move(body)));
      return true;
    }
    audit_report report;
    try {
      report = build_store_audit(svc.config(), svc.gate(), as_of, svc.policy(), svc.tables());
    } catch (const std::exception&) {
      // The store could not be read (busy for longer than its timeout, or damaged).
      done(problem(503, "the store could not be read for the audit; try again"));
      return true;
    }
    done(answer(write_audit(audit_rows_of(report, kind), kind)));
  } else {
    done(problem(404, "no such route"));
  }
  return true;
}

}  // namespace

http_response unauthorized() {
  auto r = problem(401, "a valid bearer token is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"covgate\"");
  return r;
}

http_response route(service& svc, const http_request& request,
                    const std::vector<bearer_token>& tokens) {
  std::promise<http_response> promise;
  auto answer = promise.get_future();
  route(svc, request, tokens, [&promise](http_response r) { promise.set_value(std::move(r)); });
  return answer.get();
}

namespace {

void route_request(service& svc, http_request request, const std::vector<bearer_token>& tokens,
                   respond done) {
  // The body is moved into the gate's queue where a message is submitted: nothing reads the
  // request after that.
  auto& req = request;
  const std::string_view target = req.target;
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (!needs_token(target)) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    if (path == "/readyz") return done(readiness(svc));
    if (const auto* asset = web_asset_at(path)) {
      // The page's own files: no data in them, so no token (the page asks for one).
      http_response r{200, std::string(asset->content_type), std::string(asset->body), {}};
      r.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                             "script-src 'self'; frame-ancestors 'none'; base-uri 'none'");
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Referrer-Policy", "no-referrer");
      r.headers.emplace_back("Cache-Control", "no-cache");
      return done(std::move(r));
    }
    return done(svc.gate().healthy() ? json(200, "{\"status\":\"ok\"}")
                                     : json(503, "{\"status\":\"store failed; restart needed\"}"));
  }
  const auto* token = authorized(req.authorization, tokens);
  if (token == nullptr) return done(unauthorized());
  // Path segments are decoded here, once, for every route below.
  const auto decoded = split_path(path);
  if (!decoded) return done(problem(400, "the path is not validly percent-encoded UTF-8"));
  const auto& parts = *decoded;
  if (path == "/metrics") {
    if (req.method != "GET") return done(problem(405, "GET only"));
    return done({200, "text/plain; version=0.0.4", svc.metrics_text(), {}});
  }
  if (path == "/x12") {
    if (req.method != "POST") return done(problem(405, "POST an X12 837 interchange"));
    if (engine::sniff(req.body) != engine::payload_kind::x12) {
      return done(problem(415, "POST /x12 takes an X12 interchange (application/edi-x12)"));
    }
    return svc.messages().submit(std::move(req.body), "http", req.peer,
                                 [done = std::move(done)](reply r) {
                                   // Partly accepted: the 277s of the accepted sets and the 999
                                   // travel together with 200.
                                   auto response = from_reply(r, 200);
                                   if (r.durable && r.claims > 0) response.status = 200;
                                   done(std::move(response));
                                 });
  }
  if (path == "/hl7v2") {
    if (req.method != "POST") return done(problem(405, "POST HL7 v2 (ER7) messages"));
    if (engine::sniff(req.body) != engine::payload_kind::hl7v2) {
      return done(problem(415, "POST /hl7v2 takes HL7 v2 ER7 (x-application/hl7-v2+er7)"));
    }
    // The ACKs say what was stored (AA, AE, AR): HTTP says only that they are the answer.
    return svc.messages().submit(std::move(req.body), "http", req.peer,
                                 [done = std::move(done)](reply r) { done(from_reply(r, 200)); });
  }
  if (!parts.empty() && parts[0] == "fhir") {
    if (parts.size() == 2 && parts[1] == "metadata") {
      if (req.method != "GET") return done(problem(405, "GET only"));
      return done({200, "application/fhir+json", capability_statement(), {}});
    }
    if (parts.size() == 1 && req.method == "POST") return post_bundle(svc, req, std::move(done));
    if (parts.size() == 2 && req.method == "POST") {
      return put_resource(svc, req, parts[1], "", std::move(done));
    }
    if (parts.size() == 3 && req.method == "PUT") {
      return put_resource(svc, req, parts[1], parts[2], std::move(done));
    }
    if (parts.size() == 3 && req.method == "GET") {
      if (!valid_type(parts[1]) || !boundary::fhir_id(parts[2])) {
        return done(outcome(400, "invalid", "the URL's type or id is not a FHIR type or id"));
      }
      if (auto* elsewhere = svc.claim_lookup()) {  // a cluster front: the facts are its workers'
        auto [how, body] = elsewhere->find_resource(parts[1], parts[2]);
        switch (how) {
          case claim_lookup_port::found::yes:
            return done({200, "application/fhir+json", std::move(body), {}});
          case claim_lookup_port::found::gone:
            return done(outcome(410, "deleted", "the resource was entered in error (retracted)"));
          case claim_lookup_port::found::no:
          case claim_lookup_port::found::ambiguous:  // a claim's answer only
            return done(outcome(404, "not-found", "covgate holds no facts of this resource"));
          case claim_lookup_port::found::unavailable:
            break;
        }
        return done(outcome(503, "transient",
                            body.empty() ? std::string("the cluster could not be asked; ask again")
                                         : std::move(body)));
      }
      std::string body;
      switch (svc.claims().fhir_resource_json(parts[1], parts[2], body)) {
        case claims_view::lookup::found:
          return done({200, "application/fhir+json", std::move(body), {}});
        case claims_view::lookup::retracted:
          return done(outcome(410, "deleted", "the resource was entered in error (retracted)"));
        case claims_view::lookup::unknown:
          return done(outcome(404, "not-found", "covgate holds no facts of this resource"));
      }
    }
    return done(outcome(405, "not-supported",
                        "covgate accepts FHIR resources (create, update, transaction, batch) and "
                        "reads back the facts it keeps of one (GET /fhir/{type}/{id})"));
  }
  if (!parts.empty() && parts[0] == "claims") {
    return route_claims(svc, req, parts, query, token->name, std::move(done));
  }
  if (!parts.empty() && parts[0] == "outbox") {
    return route_outbox(svc, req.method, parts, query, std::move(done));
  }
  if (route_worklist(svc, req, parts, query, token->name, done)) return;
  done(problem(404, "no such route"));
}

}  // namespace

void route(service& svc, http_request request, const std::vector<bearer_token>& tokens,
           respond done) {
  answering_failures(done, [&] { route_request(svc, std::move(request), tokens, done); });
}

}  // namespace covgate::server
