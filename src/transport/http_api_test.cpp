#include "covgate/transport/http_api.hpp"

#include <doctest/doctest.h>

#include "support/gate_fixtures.hpp"
#include "support/samples.hpp"

using namespace covgate;
using test::sample;
using transport::http_request;

namespace {

struct api {
  transport::service svc{[] {
                           transport::server_config c;
                           c.store.directory = ":memory:";
                           return c;
                         }(),
                         test::shipped_ncd223(), test::shipped_tables()};
  std::vector<std::string> tokens;

  transport::http_response call(std::string method, std::string target, std::string body = {},
                                std::string authorization = {}) {
    http_request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.authorization = std::move(authorization);
    r.peer = "127.0.0.1";
    return transport::route(svc, r, tokens);
  }
};

}  // namespace

TEST_SUITE("transport.http_api") {
  TEST_CASE("health, metadata and unknown routes") {
    api a;
    CHECK(a.call("GET", "/healthz").status == 200);
    CHECK(a.call("POST", "/healthz").status == 405);
    const auto meta = a.call("GET", "/fhir/metadata");
    CHECK(meta.status == 200);
    CHECK(meta.body.find("\"resourceType\":\"CapabilityStatement\"") != std::string::npos);
    CHECK(a.call("GET", "/nowhere").status == 404);
    CHECK(a.call("GET", "/fhir/Observation/1").status == 405);  // nothing is served back
  }

  TEST_CASE("with tokens, everything but /healthz needs the bearer token") {
    api a;
    a.tokens = {"t0ken"};
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
}
