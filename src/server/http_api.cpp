#include "covgate/server/http_api.hpp"

#include <rapidjson/document.h>

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <future>
#include <optional>
#include <unordered_map>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/build_info.hpp"
#include "covgate/server/log.hpp"
#include "covgate/server/outbox_api.hpp"

namespace covgate::server {
namespace {

http_response json(unsigned status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

// An OperationOutcome with one issue, for errors the FHIR reader never saw.
http_response outcome(unsigned status, std::string_view code, std::string_view diagnostics) {
  std::string body;
  model::json_writer w(body);
  w.begin_object().key("resourceType").value("OperationOutcome").key("issue").begin_array();
  w.begin_object().key("severity").value("error").key("code").value(code);
  w.key("diagnostics").value(diagnostics).end_object().end_array().end_object();
  return {status, "application/fhir+json", std::move(body), {}};
}

http_response problem(unsigned status, std::string_view message) {
  std::string body;
  model::json_writer(body).begin_object().key("error").value(message).end_object();
  return json(status, std::move(body));
}

// The value of `name` in a query string, percent-decoded ('+' is a space); nullopt when the
// parameter is absent, "" when present but empty or badly encoded (the caller refuses it).
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start <= query.size()) {
    const auto end = std::min(query.find('&', start), query.size());
    const auto pair = query.substr(start, end - start);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return boundary::percent_decode(pair.substr(eq + 1), true).value_or("");
    }
    start = end + 1;
  }
  return std::nullopt;
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
  return path != "/healthz" && path != "/readyz";
}

bool authorized(std::string_view authorization, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return true;
  constexpr std::string_view scheme = "Bearer";
  if (!has_scheme(authorization, scheme)) return false;
  std::string_view presented = authorization.substr(scheme.size() + 1);
  presented.remove_prefix(std::min(presented.find_first_not_of(' '), presented.size()));
  // Compare every token in full, whatever matches, so timing says nothing about the tokens.
  bool match = false;
  for (const auto& t : tokens) {
    unsigned diff = t.size() != presented.size() ? 1u : 0u;
    for (std::size_t i = 0; i < t.size(); ++i) {
      diff |= static_cast<unsigned char>(t[i]) ^
              static_cast<unsigned char>(i < presented.size() ? presented[i] : 0);
    }
    match = match || diff == 0;
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
          "evaluation. Resources are mapped to facts and journaled; they cannot be read back.");
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

http_response from_reply(const reply& r, unsigned ok_status) {
  if (!r.durable) {
    auto response = problem(503, "the store is unavailable; the message was not accepted");
    response.note = note_of(r);
    return response;
  }
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

void post_bundle(service& svc, const http_request& req, respond done) {
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
  svc.gate().submit(req.body, "http", req.peer,
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
  if (!r.durable) {
    auto response = problem(503, "the store is unavailable; the message was not accepted");
    response.note = note_of(r);
    return response;
  }
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

void put_resource(service& svc, const http_request& req, std::string_view type, std::string_view id,
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
  svc.gate().submit(req.body, "http", req.peer,
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

// The body of a reviewer's action: {"by": "...", "reason": "..."}, parsed without recursion
// (a body of 200,000 '[' must not reach the stack). nullopt when it is anything else.
std::optional<std::pair<std::string, std::string>> review_body(std::string_view body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  const auto text = [&](const char* name) -> std::string {
    const auto m = d.FindMember(name);
    return m != d.MemberEnd() && m->value.IsString()
               ? std::string(m->value.GetString(), m->value.GetStringLength())
               : std::string();
  };
  auto who = text("by");
  auto why = text("reason");
  if (who.empty() || why.empty() || who.size() > 256 || why.size() > 4096) return std::nullopt;
  return std::pair{std::move(who), std::move(why)};
}

void route_claims(service& svc, const http_request& req, const std::vector<std::string>& parts,
                  std::string_view query, respond done) {
  if (parts.size() == 1) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    const auto wanted = query_value(query, "outcome").value_or("");
    const model::outcome all[] = {model::outcome::release, model::outcome::hold_documentation,
                                  model::outcome::hold_review, model::outcome::hold_not_covered,
                                  model::outcome::hold_invalid};
    const auto* found = std::find_if(std::begin(all), std::end(all),
                                     [&](auto o) { return model::name(o) == wanted; });
    if (found == std::end(all)) {
      return done(problem(400,
                          "outcome must be one of release, hold:documentation, hold:review, "
                          "hold:not-covered, hold:invalid"));
    }
    std::size_t limit = 100;
    if (const auto l = query_value(query, "limit")) {
      const auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
      if (l->empty() || ec != std::errc{} || end != l->data() + l->size() || limit == 0 ||
          limit > 1000) {
        return done(problem(400, "limit must be 1 to 1000"));
      }
    }
    return done(json(
        200, svc.claims().worklist_json(*found, query_value(query, "after").value_or(""), limit)));
  }
  if (parts.size() == 2) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    const auto c = svc.claims().claim_json(parts[1]);
    return done(c ? json(200, *c) : problem(404, "no such claim"));
  }
  if (parts.size() == 3 && (parts[2] == "release" || parts[2] == "cancel")) {
    if (req.method != "POST") return done(problem(405, "POST only"));
    const auto body = review_body(req.body);
    if (!body) {
      return done(problem(400,
                          "a reviewer's action takes a JSON object {\"by\": \"…\", \"reason\": "
                          "\"…\"} (by at most 256 characters, reason at most 4096)"));
    }
    const std::string id(parts[1]);
    return svc.gate().review(
        id, parts[2] == "release", body->first, body->second,
        [&svc, id, release = parts[2] == "release", done = std::move(done)](review_status status) {
          const auto noted = [&](http_response r, std::string_view outcome) {
            r.note.outcome = std::string(outcome);
            r.note.claim = log_hash(id);
            done(std::move(r));
          };
          switch (status) {
            case review_status::done:
              return noted(json(200, svc.claims().claim_json(id).value_or("{}")),
                           release ? "released" : "cancelled");
            case review_status::unknown_claim:
              return noted(problem(404, "no such claim"), "unknown-claim");
            case review_status::already_closed:
              return noted(problem(409,
                                   "the claim is closed (cancelled, voided or replaced): it "
                                   "takes no more actions"),
                           "already-closed");
            case review_status::not_reviewable:
              return noted(problem(409,
                                   "only review, not-covered and invalid holds take "
                                   "a reviewer's action; documentation holds leave "
                                   "when their evidence arrives"),
                           "not-reviewable");
            case review_status::unavailable:
              return noted(problem(503, "the store is unavailable"), "unavailable");
          }
        });
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

}  // namespace

http_response unauthorized() {
  auto r = problem(401, "a valid bearer token is required");
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"covgate\"");
  return r;
}

http_response route(service& svc, const http_request& request,
                    const std::vector<std::string>& tokens) {
  std::promise<http_response> promise;
  auto answer = promise.get_future();
  route(svc, request, tokens, [&promise](http_response r) { promise.set_value(std::move(r)); });
  return answer.get();
}

void route(service& svc, http_request request, const std::vector<std::string>& tokens,
           respond done) {
  const auto& req = request;
  const std::string_view target = req.target;
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (!needs_token(target)) {
    if (req.method != "GET") return done(problem(405, "GET only"));
    if (path == "/readyz") return done(readiness(svc));
    return done(svc.gate().healthy() ? json(200, "{\"status\":\"ok\"}")
                                     : json(503, "{\"status\":\"store failed; restart needed\"}"));
  }
  if (!authorized(req.authorization, tokens)) return done(unauthorized());
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
    return svc.gate().submit(req.body, "http", req.peer, [done = std::move(done)](reply r) {
      // Partly accepted: the 277s of the accepted sets and the 999 travel together with 200.
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
    return svc.gate().submit(req.body, "http", req.peer,
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
    return done(outcome(405, "not-supported",
                        "covgate accepts FHIR resources (create, update, transaction, batch); it "
                        "does not serve them back"));
  }
  if (!parts.empty() && parts[0] == "claims") {
    return route_claims(svc, req, parts, query, std::move(done));
  }
  if (!parts.empty() && parts[0] == "outbox") {
    return route_outbox(svc, req.method, parts, query, std::move(done));
  }
  done(problem(404, "no such route"));
}

}  // namespace covgate::server
