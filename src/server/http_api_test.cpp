#include "covgate/server/http_api.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <set>

#include "covgate/cluster/claim_list_query.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/server/claims_view.hpp"
#include "support/gate_fixtures.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

using namespace covgate;
using server::http_request;
using test::sample;

namespace {

struct api {
  server::service svc{[] {
                        server::server_config c;
                        c.store.directory = ":memory:";
                        return c;
                      }(),
                      test::shipped_ncd223(), test::shipped_tables()};
  std::vector<server::bearer_token> tokens;

  server::http_response call(std::string method, std::string target, std::string body = {},
                             std::string authorization = {}) {
    http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.authorization = std::move(authorization);
    r.peer = "127.0.0.1";
    return server::route(svc, r, tokens);
  }
};

// An outbox that is not the gate's (a cluster front's dead letters): what the routes ask of it.
struct fake_outbox final : server::outbox_port {
  std::vector<store::outbox_entry> items{{7, "CSII-LATE-2", 0, 8, "dead", "HTTP 500", 0},
                                         {9, "CSII-LATE-3", 0, 9, "delivered", "", 1796600000000}};
  std::string asked_state;
  std::vector<std::int64_t> retried;
  std::vector<store::outbox_entry> outbox_entries(std::string_view state, std::int64_t after,
                                                  std::size_t limit) override {
    asked_state = std::string(state);
    std::vector<store::outbox_entry> out;
    for (const auto& i : items) {
      if (i.id > after && (state.empty() || i.state == state) && out.size() < limit)
        out.push_back(i);
    }
    return out;
  }
  std::optional<store::outbox_entry> outbox_entry(std::int64_t id) override {
    for (const auto& i : items) {
      if (i.id == id) return i;
    }
    return std::nullopt;
  }
  void retry(std::int64_t id,
             std::function<void(std::optional<store::retry_result>)> done) override {
    retried.push_back(id);
    const auto item = outbox_entry(id);
    if (!item) return done(store::retry_result::unknown);
    if (item->state == "delivered") return done(store::retry_result::delivered);
    items[0].state = "delivered";  // this one was delivered by hand
    items[0].attempts = 9;
    items[0].last_error.clear();
    done(store::retry_result::retried);
  }
  std::shared_ptr<const std::vector<server::destination_config>> destinations() override {
    server::destination_config d;
    d.kind = "http";
    return std::make_shared<const std::vector<server::destination_config>>(
        std::vector<server::destination_config>{d});
  }
};

// A cluster front's claim lookups: what GET /queues asks of it.
struct fake_lookup final : server::claim_lookup_port {
  bool available = true;
  std::int64_t asked_window_ms = 0;
  std::pair<found, std::string> find_claim(std::string_view id) override {
    asked_claim = std::string(id);
    if (id == "TWICE") return {found::ambiguous, "1111111112, 2222222223"};
    return {found::no, {}};
  }
  std::pair<found, std::string> find_queues(std::int64_t, std::int64_t window_ms) override {
    asked_window_ms = window_ms;
    if (!available) return {found::unavailable, "the counts of partitions 3 are not known now"};
    return {found::yes, R"({"queues":[]})"};
  }
  std::pair<found, std::string> find_charts(std::int64_t, int days) override {
    asked_days = days;
    if (!available) return {found::unavailable, "the charts of partitions 3 are not known now"};
    return {found::yes, R"({"holds_by_reason":[]})"};
  }
  std::pair<found, std::string> find_changes() override {
    if (!available) return {found::unavailable, "the versions of partitions 3 are not known now"};
    return {found::yes, R"({"version":"abc"})"};
  }
  std::pair<found, std::string> find_list(const store::claim_query& q, std::int64_t) override {
    asked_list = q;
    if (!available) return {found::unavailable, "the lists of partitions 3 are not known now"};
    return {found::yes, R"({"claims":[]})"};
  }
  std::pair<found, std::string> find_resource(std::string_view type, std::string_view id) override {
    asked_resource = std::string(type) + "/" + std::string(id);
    if (!available) return {found::unavailable, "partitions 3 are not known now"};
    if (id == "gone") return {found::gone, {}};
    if (id == "none") return {found::no, {}};
    return {found::yes, R"({"resourceType":"Observation","id":")" + std::string(id) + R"("})"};
  }
  std::pair<found, std::string> find_audit(const model::date& as_of,
                                           server::audit_format format) override {
    asked_audit = as_of.iso() + "," + std::string(server::name(format));
    if (!available) return {found::unavailable, "the audit of partitions 3 is not known now"};
    return {found::yes, format == server::audit_format::csv ? "patient\n" : "{}"};
  }
  std::pair<found, std::string> find_message(std::int64_t id) override {
    asked_message = id;
    if (!available) return {found::unavailable, "the stream could not be read: timeout"};
    if (id == 404) return {found::no, {}};
    return {found::yes, R"({"id":)" + std::to_string(id) + "}"};
  }
  std::pair<found, std::string> find_waiting(std::size_t limit, std::int64_t) override {
    asked_limit = limit;
    if (!available) return {found::unavailable, "CG_WAIT could not be read: timeout"};
    return {found::yes, R"({"messages":0,"identities":0,"listed":[]})"};
  }
  int asked_days = 0;
  std::size_t asked_limit = 0;
  std::int64_t asked_message = 0;
  std::string asked_claim;
  store::claim_query asked_list;
  std::string asked_resource;
  std::string asked_audit;
};

}  // namespace

TEST_SUITE("server.http_api") {
  TEST_CASE("GET /queues, /charts and /claims of a front are the cluster's answers, or 503") {
    api a;
    fake_lookup cluster;
    a.svc.set_claim_lookup(cluster);
    const auto counted = a.call("GET", "/queues?released_hours=48");
    CHECK(counted.status == 200);
    CHECK(counted.body == R"({"queues":[]})");
    CHECK(cluster.asked_window_ms == 48 * 3'600'000);
    const auto charted = a.call("GET", "/charts?days=7");
    CHECK(charted.status == 200);
    CHECK(charted.body == R"({"holds_by_reason":[]})");
    CHECK(cluster.asked_days == 7);
    const auto listed = a.call("GET", "/claims?queue=review&sort=-charge&limit=5&patient=DOE");
    CHECK(listed.status == 200);
    CHECK(listed.body == R"({"claims":[]})");
    CHECK(cluster.asked_list.result == model::outcome::hold_review);
    CHECK(cluster.asked_list.sort == store::claim_sort::charge);
    CHECK(cluster.asked_list.descending);
    CHECK(cluster.asked_list.limit == 5);
    CHECK(cluster.asked_list.patient == "DOE");
    CHECK(a.call("GET", "/claims?queue=nope").status == 400);  // read by the front first
    // A CLM01 the workers hold for two billing providers; with its NPI, the claim's key is
    // asked.
    const auto twice = a.call("GET", "/claims/TWICE");
    CHECK(twice.status == 409);
    CHECK(twice.body.find("1111111112, 2222222223") != std::string::npos);
    CHECK(a.call("GET", "/claims/TWICE?billing_npi=2222222223").status == 404);
    CHECK(cluster.asked_claim == model::claim_key("TWICE", "2222222223"));
    CHECK(a.call("GET", "/changes").body == R"({"version":"abc"})");
    // A message is read from the stream by the sequence the claims name it by (§5g).
    const auto message = a.call("GET", "/messages/4711");
    CHECK(message.status == 200);
    CHECK(message.body == R"({"id":4711})");
    CHECK(cluster.asked_message == 4711);
    CHECK(a.call("GET", "/messages/404").status == 404);
    cluster.asked_message = 0;
    CHECK(a.call("GET", "/messages/0").status == 404);  // not asked: no such sequence
    CHECK(a.call("GET", "/messages/x").status == 404);
    CHECK(a.call("GET", "/messages/99999999999999999999").status == 404);
    CHECK(cluster.asked_message == 0);
    // What waits for an identity: the front's listing, 100 identities unless asked.
    const auto waiting = a.call("GET", "/identities/waiting");
    CHECK(waiting.status == 200);
    CHECK(waiting.body == R"({"messages":0,"identities":0,"listed":[]})");
    CHECK(cluster.asked_limit == 100);
    CHECK(a.call("GET", "/identities/waiting?limit=1000").status == 200);
    CHECK(cluster.asked_limit == 1000);
    CHECK(a.call("GET", "/identities/waiting?limit=1001").status == 400);
    CHECK(a.call("GET", "/identities/waiting?limit=0").status == 400);
    CHECK(a.call("GET", "/identities/waiting?oldest=1").status == 400);
    CHECK(a.call("POST", "/identities/waiting", "{}").status == 405);
    // The audit is put together from the workers' rows (§5h), in the format asked for; its
    // parameters are read by the front first.
    const auto audited = a.call("GET", "/audit/csii?as_of=2026-04-01&format=csv");
    CHECK(audited.status == 200);
    CHECK(audited.body == "patient\n");
    CHECK(audited.content_type.starts_with("text/csv"));
    CHECK(cluster.asked_audit == "2026-04-01,csv");
    CHECK(a.call("GET", "/audit/csii?format=pdf").status == 400);
    CHECK(a.call("GET", "/audit/csii?as_of=soon").status == 400);
    // A resource's facts are asked of the workers: found, retracted, unknown, or not now.
    const auto resource = a.call("GET", "/fhir/Observation/cpep-1");
    CHECK(resource.status == 200);
    CHECK(resource.body == R"({"resourceType":"Observation","id":"cpep-1"})");
    CHECK(cluster.asked_resource == "Observation/cpep-1");
    CHECK(a.call("GET", "/fhir/Observation/gone").status == 410);
    CHECK(a.call("GET", "/fhir/Observation/none").status == 404);
    cluster.asked_resource.clear();
    CHECK(a.call("GET", "/fhir/observation/x").status == 400);  // not asked: not a type
    CHECK(a.call("GET", "/fhir/Observation/" + std::string(65, 'a')).status == 400);
    CHECK(cluster.asked_resource.empty());
    cluster.available = false;
    const auto not_now = a.call("GET", "/fhir/Observation/cpep-1");
    CHECK(not_now.status == 503);
    CHECK(not_now.body.find("OperationOutcome") != std::string::npos);
    CHECK(not_now.body.find("partitions 3 are not known now") != std::string::npos);
    CHECK(a.call("GET", "/charts").status == 503);
    CHECK(a.call("GET", "/claims?queue=review").status == 503);
    CHECK(a.call("GET", "/changes").status == 503);
    CHECK(a.call("GET", "/audit/csii").status == 503);
    CHECK(a.call("GET", "/identities/waiting").status == 503);
    const auto unreadable = a.call("GET", "/messages/4711");
    CHECK(unreadable.status == 503);
    CHECK(unreadable.body.find("the stream could not be read") != std::string::npos);
    const auto unknown = a.call("GET", "/queues");
    CHECK(unknown.status == 503);
    CHECK(unknown.body.find("partitions 3 are not known now") != std::string::npos);
  }

  TEST_CASE("one process has no messages waiting for an identity: a front's listing") {
    api a;
    const auto answer = a.call("GET", "/identities/waiting");
    CHECK(answer.status == 404);
    CHECK(answer.body.find("ask a front") != std::string::npos);
  }

  TEST_CASE("a store's queue counts per patient add up to its queue counts") {
    api a;
    CHECK(a.call("POST", "/x12", sample("days/mixed-day/2-claims.x12")).status == 200);
    const auto window_start = server::durable_gate::now_ms() - 86'400'000;
    a.svc.gate().read([&](const store::sqlite_store& store) {
      std::vector<store::queue_count> by_outcome(std::size(model::outcomes));
      store::queue_count released;
      std::set<std::string> patients;
      store.for_each_patient_queue_count(
          window_start,
          [&](std::string_view patient, model::outcome o, const store::queue_count& c) {
            patients.emplace(patient);
            store::add_queue_count(by_outcome[static_cast<std::size_t>(o)], c);
          },
          [&](std::string_view, const store::queue_count& c) {
            store::add_queue_count(released, c);
          });
      const auto whole = store.queue_counts();
      std::uint64_t holds = 0;
      for (std::size_t o = 0; o < whole.size(); ++o) {
        INFO("outcome " << o);
        CHECK(by_outcome[o].count == whole[o].count);
        CHECK(by_outcome[o].oldest_since_ms == whole[o].oldest_since_ms);
        if (o > 0) holds += whole[o].count;
      }
      CHECK(holds > 0);
      CHECK(patients.size() > 10);
      CHECK(released.count == store.released_count(window_start).count);
    });
  }

  TEST_CASE("a list split by partition and merged is the store's list, page after page") {
    // Two workers, each answering for the patients of one parity (a partition each), list
    // alike and the front's merge gives the whole store's pages (docs/cluster.md §5h).
    api a;
    CHECK(a.call("POST", "/x12", sample("days/mixed-day/2-claims.x12")).status == 200);
    const auto now = server::durable_gate::now_ms();
    const auto parity = [](std::string_view patient) {
      return patient.empty() ? 0 : static_cast<int>(static_cast<unsigned char>(patient.back()) % 2);
    };
    for (const auto& [sort, descending] :
         {std::pair{store::claim_sort::charge, true}, std::pair{store::claim_sort::name, false},
          std::pair{store::claim_sort::id, false}, std::pair{store::claim_sort::since, true}}) {
      INFO("sort " << static_cast<int>(sort) << (descending ? " descending" : ""));
      store::claim_query q;
      q.result = model::outcome::hold_review;
      q.sort = sort;
      q.descending = descending;
      q.limit = 7;
      std::size_t pages = 0, listed = 0;
      for (;; ++pages) {
        REQUIRE(pages < 100);
        cluster::claim_list_merge merge(q.sort, q.descending, q.limit);
        store::claim_page whole;
        a.svc.gate().read([&](const store::sqlite_store& store) {
          whole = store.list_claims(q);
          for (const int worker : {0, 1}) {
            auto mine = q;
            mine.group_of = [&](std::string_view patient) {
              return parity(patient) == worker ? worker : -1;
            };
            const auto page = store.list_claims(mine);
            cluster::claim_list_page sent;
            sent.totals = page.groups;
            for (const auto& row : page.rows) {
              CHECK(parity(row.patient) == worker);
              sent.rows.push_back({worker, server::claims_view::sort_value_of(row, q.sort), row.id,
                                   server::claims_view::list_row_json(row, now)});
            }
            // Through the wire form.
            const auto received =
                cluster::decode_claim_list_page(cluster::encode_claim_list_page(sent), 2);
            REQUIRE(received.has_value());
            merge.add(*received, {worker});
          }
          // A third, stale answer naming both partitions (a worker that held them before the
          // handover) comes after the holders': nothing of it counts.
          cluster::claim_list_page stale;
          stale.totals = {{0, 1'000}, {1, 1'000}};
          for (const auto& row : whole.rows) {
            stale.rows.push_back({parity(row.patient), "", "A-STALE-" + row.id, "{}"});
          }
          merge.add(stale, {});
        });
        const auto rows = merge.rows();
        CHECK(merge.total() == whole.total);
        REQUIRE(rows.size() == whole.rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].id == whole.rows[i].id);
        listed += rows.size();
        if (rows.size() < q.limit) break;
        q.after = std::pair{rows.back().sort_value, rows.back().id};
      }
      CHECK(pages > 1);
      std::uint64_t all = 0;
      a.svc.gate().read([&](const store::sqlite_store& store) {
        all = store.queue_counts()[static_cast<std::size_t>(model::outcome::hold_review)].count;
      });
      CHECK(listed == all);  // every hold once, across the pages
    }
  }

  TEST_CASE("chart counts split by patient and sent as numbers add up to the store's chart") {
    api a;
    CHECK(a.call("POST", "/x12", sample("days/mixed-day/2-claims.x12")).status == 200);
    const auto now = server::durable_gate::now_ms();
    server::chart_counts whole(now, 3);
    server::chart_counts even(now, 3), odd(now, 3);
    a.svc.gate().read([&](const store::sqlite_store& store) {
      server::claims_view::add_charts(store, whole);
      server::claims_view::add_charts(store, whole.first_day_ms(), [&](std::string_view patient) {
        return patient.empty() || (patient.back() % 2) == 0 ? &even : &odd;
      });
    });
    server::chart_counts added(now, 3);
    CHECK(added.add_numbers(even.numbers()));
    CHECK(added.add_numbers(odd.numbers()));
    CHECK_FALSE(added.add_numbers(std::vector<std::uint64_t>(3, 1)));  // another length
    const auto json = server::claims_view::charts_json(whole);
    CHECK(server::claims_view::charts_json(added) == json);
    CHECK(a.call("GET", "/charts?days=3").body == json);  // the route writes the same
    CHECK(json.find("\"holds_by_reason\":[{") != std::string::npos);
    CHECK(whole.by_day.front() == std::array<std::uint64_t, 3>{});  // two days ago: nothing
    CHECK(whole.by_day.back()[2] > 0);  // today's first answers that released
  }

  TEST_CASE("the outbox routes read and retry through the service's outbox port") {
    api a;
    fake_outbox port;
    a.svc.set_outbox_port(port);
    const auto dead = a.call("GET", "/outbox?state=dead");
    CHECK(dead.status == 200);
    CHECK(port.asked_state == "dead");
    CHECK(dead.body.find(R"("id":7,"key":"CSII-LATE-2","state":"dead","destination":0,)"
                         R"("destination_kind":"http","attempts":8)") != std::string::npos);
    CHECK(dead.body.find("\"id\":9") == std::string::npos);
    const auto delivered = a.call("GET", "/outbox/9").body;
    CHECK(delivered.find("\"state\":\"delivered\"") != std::string::npos);
    CHECK(delivered.find("\"delivered_ms\":1796600000000") != std::string::npos);
    CHECK(delivered.find("next_attempt_ms") == std::string::npos);
    CHECK(a.call("GET", "/outbox/8").status == 404);
    const auto retried = a.call("POST", "/outbox/7/retry");
    CHECK(retried.status == 200);
    CHECK(retried.body.find("\"state\":\"delivered\"") != std::string::npos);
    CHECK(a.call("POST", "/outbox/7/retry").status == 409);  // nothing left to retry
    CHECK(a.call("POST", "/outbox/8/retry").status == 404);
    CHECK(port.retried == std::vector<std::int64_t>{7, 7, 8});
  }

  TEST_CASE("health, metadata and unknown routes") {
    api a;
    CHECK(a.call("GET", "/healthz").status == 200);
    CHECK(a.call("POST", "/healthz").status == 405);
    const auto meta = a.call("GET", "/fhir/metadata");
    CHECK(meta.status == 200);
    CHECK(meta.body.find("\"resourceType\":\"CapabilityStatement\"") != std::string::npos);
    CHECK(a.call("GET", "/nowhere").status == 404);
    CHECK(a.call("GET", "/fhir/Observation/1").status == 404);  // no facts of it kept
  }

  TEST_CASE("with tokens, everything but /healthz needs the bearer token") {
    api a;
    a.tokens = {{"alice", "t0ken"}};
    CHECK(a.call("GET", "/healthz").status == 200);
    const auto denied = a.call("GET", "/metrics");
    CHECK(denied.status == 401);
    REQUIRE(denied.headers.size() == 1);
    CHECK(denied.headers[0].first == "WWW-Authenticate");
    CHECK(a.call("GET", "/metrics", "", "Bearer t0ke").status == 401);
    CHECK(a.call("GET", "/metrics", "", "Bearer t0ken").status == 200);
    CHECK(a.call("GET", "/metrics", "", "Basic dDBrZW4=").status == 401);
  }

  TEST_CASE("POST /x12 answers 200 with the 277, 400 with the acknowledgment, 415 for non-X12") {
    api a;
    const auto ok = a.call("POST", "/x12", sample("x12/01-insulin-pump-837p.x12"));
    CHECK(ok.status == 200);
    CHECK(ok.content_type == "application/edi-x12");
    CHECK(ok.body.find("ST*277*") != std::string::npos);
    const auto bad = a.call("POST", "/x12", sample("x12/04-wrong-segment-count.x12"));
    CHECK(bad.status == 400);
    CHECK(bad.body.find("ST*999*") != std::string::npos);
    CHECK(a.call("POST", "/x12", "{\"resourceType\":\"Patient\"}").status == 415);
  }

  TEST_CASE("FHIR: create answers 201 with Location; mismatches and wrong Bundle types are 400") {
    api a;
    const std::string patient = R"({"resourceType":"Patient","id":"p1"})";
    const auto created = a.call("POST", "/fhir/Patient", patient);
    CHECK(created.status == 201);
    REQUIRE(created.headers.size() == 1);
    CHECK(created.headers[0].second == "/fhir/Patient/p1");
    CHECK(a.call("PUT", "/fhir/Patient/p1", patient).status == 200);
    CHECK(a.call("PUT", "/fhir/Patient/p2", patient).status == 400);
    CHECK(a.call("POST", "/fhir/Observation", patient).status == 400);
    const std::string collection = R"({"resourceType":"Bundle","type":"collection","entry":[]})";
    CHECK(a.call("POST", "/fhir", collection).status == 400);
    CHECK(a.call("POST", "/fhir/Bundle", collection).status == 201);
    const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":)" +
                              patient +
                              R"(},{"resource":{"resourceType":"Observation","status":"bogus"}}]})";
    const auto response = a.call("POST", "/fhir", batch);
    CHECK(response.status == 200);
    CHECK(response.body.find("\"type\":\"batch-response\"") != std::string::npos);
    CHECK(response.body.find("\"location\":\"Patient/p1\"") != std::string::npos);
  }

  TEST_CASE("FHIR XML: transaction and batch Bundles get their response Bundle; ids are checked") {
    api a;
    const std::string patient =
        R"(<Patient xmlns="http://hl7.org/fhir"><id value="p1"/></Patient>)";
    CHECK(a.call("PUT", "/fhir/Patient/p1", patient).status == 200);
    CHECK(a.call("PUT", "/fhir/Patient/p2", patient).status == 400);
    CHECK(a.call("POST", "/fhir/Observation", patient).status == 400);
    const auto created = a.call("POST", "/fhir/Patient", patient);
    CHECK(created.status == 201);
    REQUIRE(created.headers.size() == 1);
    CHECK(created.headers[0].second == "/fhir/Patient/p1");
    const std::string batch =
        R"(<Bundle xmlns="http://hl7.org/fhir"><type value="batch"/><entry><resource>)" + patient +
        R"(</resource></entry><entry><resource><Observation><status value="bogus"/>)"
        R"(</Observation></resource></entry></Bundle>)";
    const auto response = a.call("POST", "/fhir", batch);
    CHECK(response.status == 200);
    CHECK(response.body.find("\"type\":\"batch-response\"") != std::string::npos);
    CHECK(response.body.find("\"location\":\"Patient/p1\"") != std::string::npos);
    CHECK(response.body.find("\"status\":\"400 Bad Request\"") != std::string::npos);
    auto transaction = batch;
    transaction.replace(transaction.find("batch"), 5, "transaction");
    CHECK(a.call("POST", "/fhir", transaction).status == 400);  // all or nothing
    const std::string collection =
        R"(<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>)";
    CHECK(a.call("POST", "/fhir", collection).status == 400);
    CHECK(a.call("POST", "/fhir/Bundle", collection).status == 201);
    CHECK(a.call("POST", "/fhir", "<Bundle").status == 400);
  }

  TEST_CASE("the worklist checks its parameters; a claim reads back with its history") {
    api a;
    (void)a.call("POST", "/x12", sample("scenarios/02-csii-release-after-late-lab/2-claim.x12"));
    CHECK(a.call("GET", "/claims?outcome=bogus").status == 400);
    CHECK(a.call("GET", "/claims?outcome=hold%3Adocumentation&limit=0").status == 400);
    const auto list = a.call("GET", "/claims?outcome=hold%3Adocumentation&limit=5");
    CHECK(list.status == 200);
    CHECK(list.body.find("\"id\":\"CSII-LATE\"") != std::string::npos);
    const auto one = a.call("GET", "/claims/CSII-LATE");
    CHECK(one.status == 200);
    CHECK(one.body.find("\"history\":[{") != std::string::npos);
    CHECK(a.call("GET", "/claims/NOPE").status == 404);
    CHECK(a.call("POST", "/claims/CSII-LATE/release", R"({"by":"a"})").status == 400);
    CHECK(a.call("POST", "/claims/CSII-LATE/release", R"({"by":"a","reason":"b"})").status == 409);
  }

  TEST_CASE("regression: a batch of many failing entries gets a response linear in its size") {
    api a;
    // Each failed entry carries only its own issues, not the whole message's OperationOutcome
    // (1,000 entries used to give 117 MB).
    std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[)";
    for (int i = 0; i < 1000; ++i) batch += i ? ",{}" : "{}";
    batch += "]}";
    const auto response = a.call("POST", "/fhir", batch);
    CHECK(response.status == 200);
    CHECK(response.body.size() < 1000 * 400);
    CHECK(response.body.find("\"status\":\"400 Bad Request\"") != std::string::npos);
  }

  TEST_CASE("regression: a batch over http.max_bundle_entries is refused as too-costly") {
    api a;
    std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[)";
    for (int i = 0; i < 30000; ++i) batch += i ? ",{}" : "{}";
    batch += "]}";
    const auto refused = a.call("POST", "/fhir", batch);
    CHECK(refused.status == 400);
    CHECK(refused.body.find("\"too-costly\"") != std::string::npos);
    // At the limit exactly, it is processed.
    server::server_config c;
    c.store.directory = ":memory:";
    c.http.max_bundle_entries = 3;
    server::service svc(c, test::shipped_ncd223(), test::shipped_tables());
    const std::string patient = R"({"resource":{"resourceType":"Patient","id":"p"}})";
    const auto bundle = [&](int n) {
      std::string b = R"({"resourceType":"Bundle","type":"batch","entry":[)";
      for (int i = 0; i < n; ++i) b += (i ? "," : "") + patient;
      return b + "]}";
    };
    http_request r{"POST", "/fhir", "", "", bundle(3), "127.0.0.1"};
    CHECK(server::route(svc, r, {}).status == 200);
    r.body = bundle(4);
    CHECK(server::route(svc, r, {}).status == 400);
  }

  TEST_CASE("regression: a reviewer's action body of 200,000 '[' is a 400, not a crash") {
    api a;
    CHECK(a.call("POST", "/claims/X/release", std::string(200000, '[')).status == 400);
    CHECK(a.call("POST", "/claims/X/cancel", "[]").status == 400);
    CHECK(a.call("POST", "/claims/X/cancel", "\"text\"").status == 400);
    CHECK(a.call("POST", "/claims/X/cancel", R"({"by":"a","reason":"b"})").status == 404);
  }

  TEST_CASE("regression: a FHIR id with CR LF cannot reach the Location header") {
    api a;
    const std::string evil = R"({"resourceType":"Patient","id":"x\r\nSet-Cookie: evil=1"})";
    const auto created = a.call("POST", "/fhir/Patient", evil);
    CHECK(created.status == 400);
    CHECK(created.body.find("OperationOutcome") != std::string::npos);
    CHECK(created.headers.empty());
    CHECK(a.call("PUT", "/fhir/Patient/x%0D%0ASet-Cookie:%20evil=1", evil).status == 400);
    CHECK(a.call("PUT", "/fhir/Patient/" + std::string(65, 'a'),
                 R"({"resourceType":"Patient","id":")" + std::string(65, 'a') + "\"}")
              .status == 400);
    CHECK(a.call("POST", "/fhir/Pa%0Dtient", R"({"resourceType":"Patient"})").status == 400);
    // A batch entry with such an id fails alone, and its location is never echoed.
    const std::string batch =
        R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":)" + evil + "}]}";
    const auto response = a.call("POST", "/fhir", batch);
    CHECK(response.status == 200);
    CHECK(response.body.find("Set-Cookie") == std::string::npos);
  }

  TEST_CASE("regression: claim ids are percent-decoded once, at the router") {
    api a;
    auto claim = sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    const auto at = claim.find("CSII-LATE");
    REQUIRE(at != std::string::npos);
    claim.replace(at, 9, "A B/C?D");
    REQUIRE(a.call("POST", "/x12", claim).status == 200);
    CHECK(a.call("GET", "/claims/A%20B%2FC%3FD").status == 200);
    CHECK(a.call("GET", "/claims/A%20B%2FC%3FD").body.find("\"claim_id\":\"A B/C?D\"") !=
          std::string::npos);
    CHECK(a.call("POST", "/claims/A%20B%2FC%3FD/release", R"({"by":"a","reason":"b"})").status ==
          409);  // found (a documentation hold), not 404
    CHECK(a.call("GET", "/claims/A%2").status == 400);
    CHECK(a.call("GET", "/claims/%FF").status == 400);
    const auto list = a.call("GET", "/claims?outcome=hold%3Adocumentation&after=A+A");
    CHECK(list.body.find("\"id\":\"A B/C?D\"") != std::string::npos);
  }

  TEST_CASE("the Bearer scheme is case-insensitive (RFC 9110)") {
    api a;
    a.tokens = {{"alice", "t0ken"}};
    CHECK(a.call("GET", "/metrics", "", "bearer t0ken").status == 200);
    CHECK(a.call("GET", "/metrics", "", "BEARER t0ken").status == 200);
    CHECK(a.call("GET", "/metrics", "", "Bearert0ken").status == 401);
  }

  TEST_CASE("regression: FHIR datatype violations in elements covgate reads are 400 invalid") {
    api a;
    const auto zebra =
        a.call("POST", "/fhir/Patient", R"({"resourceType":"Patient","birthDate":"ZEBRAFINCH"})");
    CHECK(zebra.status == 400);
    CHECK(zebra.body.find("\"code\":\"invalid\"") != std::string::npos);
    CHECK(zebra.body.find("Patient.birthDate") != std::string::npos);
    const auto listed = a.call(
        "POST", "/fhir/Observation",
        R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":)"
        R"("http://loinc.org","code":"1986-9"}]},"subject":{"reference":"Patient/p"},)"
        R"("effectiveDateTime":"2026-01-10","valueQuantity":{"value":[1,2],"unit":"ng/mL"}})");
    CHECK(listed.status == 400);
    CHECK(listed.body.find("Observation.valueQuantity.value") != std::string::npos);
    CHECK(a.call("POST", "/fhir/Patient", R"({"resourceType":"Patient","birthDate":"2026-02-30"})")
              .status == 400);
    CHECK(a.call("POST", "/fhir/Patient", R"({"resourceType":"Patient","birthDate":"1950-01-02"})")
              .status == 201);
  }

  TEST_CASE("regression: the FHIR routes refuse a body that is not FHIR (415)") {
    api a;
    CHECK(a.call("POST", "/fhir/Patient", sample("x12/01-insulin-pump-837p.x12")).status == 415);
    CHECK(a.call("PUT", "/fhir/Patient/p1", "MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5.1\r").status ==
          415);
    CHECK(a.call("POST", "/fhir/Patient", "hello").status == 415);
  }
}

TEST_SUITE("server.http_api.worklist") {
  TEST_CASE("the page needs no token; every data route does; the reviewer is the token's name") {
    api a;
    a.tokens = {{"Alice Reviewer", "t0ken"}};
    const auto page = a.call("GET", "/");
    CHECK(page.status == 200);
    CHECK(page.content_type.starts_with("text/html"));
    CHECK(a.call("GET", "/ui/app.js").status == 200);
    CHECK(a.call("GET", "/ui/nothing.js").status == 401);  // not a page file: data route rules
    CHECK(a.call("GET", "/queues").status == 401);
    CHECK(a.call("GET", "/whoami", "", "Bearer t0ken").body.find("\"name\":\"Alice Reviewer\"") !=
          std::string::npos);
    (void)a.call("POST", "/x12", sample("scenarios/38-implantable-review/2-claim.x12"),
                 "Bearer t0ken");
    const auto done = a.call("POST", "/claims/IMP-SPAS/release",
                             R"({"by":"mallory","reason":"trial on file"})", "Bearer t0ken");
    CHECK(done.status == 200);
    CHECK(done.body.find("\"who\":\"Alice Reviewer\"") != std::string::npos);
    CHECK(done.body.find("mallory") == std::string::npos);
  }

  TEST_CASE("regression: a stored row that does not decode fails its request, not the server") {
    // A read the store cannot make (an I/O error, a row a newer version or a damaged disk
    // wrote) threw out of the I/O thread that routed the request, or out of the committer's
    // thread that answered a reviewer's action: the process ended (std::terminate).
    test::temp_dir dir;
    server::server_config c;
    c.store.directory = dir.path / "data";
    server::service svc(c, test::shipped_ncd223(), test::shipped_tables());
    const auto call = [&](std::string method, std::string target, std::string body = {}) {
      return server::route(
          svc, {std::move(method), std::move(target), "", "", std::move(body), "127.0.0.1"}, {});
    };
    REQUIRE(call("POST", "/x12", sample("scenarios/38-implantable-review/2-claim.x12")).status ==
            200);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path / "data" / "covgate.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE history SET decision = x'FF00'", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
    const auto read = call("GET", "/claims/IMP-SPAS");
    CHECK(read.status == 503);
    CHECK(read.body.find("could not be read") != std::string::npos);
    // The action commits; its answer, which reads the claim again, cannot be written.
    const auto released = call("POST", "/claims/IMP-SPAS/release", R"({"reason":"trial on file"})");
    CHECK(released.status == 503);
    CHECK(call("GET", "/healthz").status == 200);  // one row, not the store
    CHECK(call("GET", "/queues").status == 200);
  }

  TEST_CASE("regression: an action on a closed claim is answered 409, not left unanswered") {
    api a;
    (void)a.call("POST", "/x12", sample("scenarios/38-implantable-review/2-claim.x12"));
    CHECK(
        a.call("POST", "/claims/IMP-SPAS/cancel", R"({"by":"ann","reason":"duplicate"})").status ==
        200);
    const auto again =
        a.call("POST", "/claims/IMP-SPAS/cancel", R"({"by":"ann","reason":"duplicate"})");
    CHECK(again.status == 409);
    CHECK(again.body.find("closed") != std::string::npos);
    CHECK(a.call("POST", "/claims/IMP-SPAS/release", R"({"by":"ann","reason":"x"})").status == 409);
  }

  TEST_CASE("a CLM01 two billing providers sent is named with ?billing_npi=, else 409") {
    // regression: claims were keyed by CLM01 alone; the second provider's claim was taken
    // for a repeat of the first's.
    api a;
    const auto claim = sample("scenarios/38-implantable-review/2-claim.x12");
    REQUIRE(a.call("POST", "/x12", claim).status == 200);
    auto other = claim;
    const auto npi = other.find("XX*1999999984");
    const auto control = other.find("*000000538*");
    REQUIRE(npi != std::string::npos);
    REQUIRE(control != std::string::npos);
    other.replace(npi, 13, "XX*1111111112");
    other.replace(control, 11, "*000000539*");  // another interchange, not the same again
    REQUIRE(a.call("POST", "/x12", other).status == 200);
    const auto ambiguous = a.call("GET", "/claims/IMP-SPAS");
    CHECK(ambiguous.status == 409);
    CHECK(ambiguous.body.find("1111111112, 1999999984") != std::string::npos);
    CHECK(ambiguous.body.find("billing_npi") != std::string::npos);
    const auto theirs = a.call("GET", "/claims/IMP-SPAS?billing_npi=1111111112");
    CHECK(theirs.status == 200);
    CHECK(theirs.body.find(R"("npi":"1111111112")") != std::string::npos);
    CHECK(a.call("GET", "/claims/IMP-SPAS?billing_npi=1999999984").status == 200);
    CHECK(a.call("GET", "/claims/IMP-SPAS?billing_npi=1234567893").status == 404);
    CHECK(a.call("GET", "/claims/IMP-SPAS?billing_npi=%1F").status == 400);
    CHECK(a.call("GET", "/claims/IMP%1FSPAS").status == 400);
    // Both are listed, each with its provider.
    const auto list = a.call("GET", "/claims?outcome=hold%3Areview");
    CHECK(list.body.find(R"("id":"IMP-SPAS")") != list.body.rfind(R"("id":"IMP-SPAS")"));
    // An action names one; unnamed, it is refused, and in bulk each is answered.
    const auto cancel = R"({"by":"ann","reason":"duplicate"})";
    CHECK(a.call("POST", "/claims/IMP-SPAS/cancel", cancel).status == 409);
    CHECK(a.call("POST", "/claims/IMP-SPAS/cancel?billing_npi=1111111112", cancel).status == 200);
    CHECK(
        a.call("GET", "/claims/IMP-SPAS?billing_npi=1999999984").body.find(R"("queue":"review")") !=
        std::string::npos);
    const auto bulk = a.call(
        "POST", "/claims/release",
        R"({"ids":["IMP-SPAS",{"id":"IMP-SPAS","billing_npi":"1999999984"}],"reason":"r","by":"b"})");
    CHECK(bulk.status == 200);
    CHECK(bulk.body ==
          R"({"results":[{"id":"IMP-SPAS","status":"ambiguous"},)"
          R"({"id":"IMP-SPAS","billing_npi":"1999999984","status":"done"}],"done":1})");
    CHECK(
        a.call("POST", "/claims/release", R"({"ids":[{"billing_npi":"1"}],"reason":"r"})").status ==
        400);
  }

  TEST_CASE("regression: the audit's heparin claims say since when, found by their key") {
    // The audit found a claim's list row by CLM01 after claims were keyed by CLM01 and billing
    // NPI: every "since" was empty.
    api a;
    REQUIRE(
        a.call("POST", "/x12", sample("scenarios/27-external-heparin-home/2-claim.x12")).status ==
        200);
    const auto audit = a.call("GET", "/audit/csii?format=json");
    REQUIRE(audit.status == 200);
    const auto heparin = audit.body.find(R"("heparin":[{)");
    REQUIRE(heparin != std::string::npos);
    CHECK(audit.body.find(R"("since":"20)", heparin) != std::string::npos);
  }

  TEST_CASE("GET /claims refuses what it does not understand instead of ignoring it") {
    api a;
    CHECK(a.call("GET", "/claims?queue=documentation").status == 200);
    CHECK(a.call("GET", "/claims?queue=documentation&sort=-dos").status == 200);
    CHECK(a.call("GET", "/claims?queue=documentation&reasn=x").status == 400);
    CHECK(a.call("GET", "/claims?queue=documentation&sort=colour").status == 400);
    CHECK(a.call("GET", "/claims?queue=documentation&dos_to=2026-13-01").status == 400);
    CHECK(a.call("GET", "/claims?queue=documentation&min_age_days=-1").status == 400);
    CHECK(a.call("GET", "/claims?queue=documentation&sort=dos&after=k12").status == 400);
    CHECK(a.call("GET", "/audit/csii?format=pdf").status == 400);
  }
}
