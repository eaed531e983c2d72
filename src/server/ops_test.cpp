// The operator-facing parts of the server module: log lines, route labels, the configuration
// written back, the store lock.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "covgate/server/config.hpp"
#include "covgate/server/http_log.hpp"
#include "covgate/server/log.hpp"
#include "covgate/server/store_lock.hpp"

using namespace covgate::server;

TEST_SUITE("server.ops") {
  TEST_CASE("a JSON log line is one line, whatever its values hold") {
    logger l;
    const auto line = l.format_line(
        1'790'000'000'123, log_level::warn, "http", "request",
        {{"reason", "a \"quoted\"\nsecond line"}, {"status", 413}, {"ms", 1.5}, {"tls", true}});
    CHECK(line ==
          "{\"time\":\"2026-09-21T14:13:20.123Z\",\"level\":\"warn\",\"component\":\"http\","
          "\"msg\":\"request\",\"reason\":\"a \\\"quoted\\\"\\nsecond line\",\"status\":413,"
          "\"ms\":1.5,\"tls\":true}\n");
  }

  TEST_CASE("a text log line quotes what is not one plain word") {
    logger l;
    l.configure(log_format::text, log_level::info);
    const auto line = l.format_line(1'790'000'000'123, log_level::info, "serve", "started",
                                    {{"mllp", "127.0.0.1:2575"}, {"reason", "two words=x\n"}});
    CHECK(line ==
          "2026-09-21T14:13:20.123Z info  serve: started mllp=127.0.0.1:2575 "
          "reason=\"two words=x\\n\"\n");
  }

  TEST_CASE("levels below the threshold are not written") {
    logger l;
    std::string written;
    l.set_sink([&](std::string_view line) { written += line; });
    l.configure(log_format::json, log_level::warn);
    l.info("serve", "dropped");
    l.error("store", "kept");
    CHECK(written.find("dropped") == std::string::npos);
    CHECK(written.find("\"msg\":\"kept\"") != std::string::npos);
    CHECK(parse_log_level("debug") == log_level::debug);
    CHECK_FALSE(parse_log_level("verbose").has_value());
  }

  TEST_CASE("log_hash stands in for an identifier: stable, short, not the identifier") {
    CHECK(log_hash("CSII-LATE") == log_hash("CSII-LATE"));
    CHECK(log_hash("CSII-LATE").size() == 12);
    CHECK(log_hash("CSII-LATE") != log_hash("CSII-LATF"));
  }

  TEST_CASE("route labels are bounded templates, never a sender's text") {
    CHECK(route_label("/") == "/");
    CHECK(route_label("/x12") == "/x12");
    CHECK(route_label("/claims") == "/claims");
    CHECK(route_label("/claims/PATIENT-CLAIM-1") == "/claims/{id}");
    CHECK(route_label("/claims/PATIENT-CLAIM-1/release") == "/claims/{id}/release");
    CHECK(route_label("/claims/X/anything") == "other");
    CHECK(route_label("/fhir/metadata") == "/fhir/metadata");
    CHECK(route_label("/fhir/Observation/abc") == "/fhir/{type}/{id}");
    CHECK(route_label("/outbox/17/retry") == "/outbox/{id}/retry");
    CHECK(route_label("/wp-admin/login.php") == "other");
    CHECK(route_label("/metrics/extra") == "other");
  }

  TEST_CASE("the configuration written back loads as the same configuration") {
    const auto defaults = server_config{};
    const auto text = config_text(defaults);
    const auto again = parse_config(text, "/etc/covgate", "printed.json");
    // Relative paths are resolved against the file's folder when read back.
    CHECK(again.store.directory == "/etc/covgate/covgate-data");
    auto same = again;
    same.store.directory = defaults.store.directory;
    CHECK(config_text(same) == text);
    CHECK(config_digest(same) == config_digest(defaults));
    auto changed = defaults;
    changed.http.port = 9090;
    CHECK(config_digest(changed) != config_digest(defaults));
  }

  TEST_CASE("a configuration with TLS, allow-lists and destinations round-trips") {
    const auto c = parse_config(R"({
      "mllp": {"allow": ["10.0.0.0/8", "::1"], "tls": {"certificate": "/c.pem", "private_key": "/k.pem"}},
      "outbox": {"destinations": [{"kind": "directory", "path": "/out"},
                                  {"kind": "http", "url": "http://127.0.0.1:9/x"},
                                  {"kind": "mllp", "host": "127.0.0.1", "port": 6661}]}
    })",
                                "/etc/covgate", "c.json");
    const auto again = parse_config(config_text(c), "/etc/covgate", "printed.json");
    CHECK(config_text(again) == config_text(c));
    CHECK(again.outbox.destinations.size() == 3);
    CHECK(again.mllp.tls.enabled());
  }

  TEST_CASE("errors name the file, the key path and the problem") {
    auto error_of = [](const std::string& text) {
      try {
        (void)parse_config(text, "/etc/covgate", "/etc/covgate/site.json");
      } catch (const config_error& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    CHECK(error_of(R"({"http": {"address": "example.org"}})") ==
          "/etc/covgate/site.json: /http/address: 'example.org' is not an IPv4 or IPv6 address "
          "(such as 127.0.0.1, 0.0.0.0 or ::1)");
    CHECK(error_of(R"({"mllp": {"enabled": false}, "http": {"enabled": false}})")
              .starts_with("/etc/covgate/site.json: /mllp/enabled: the MLLP and HTTP listeners"));
    http_config h;
    h.tokens_env = "COVGATE_TEST_SURELY_UNSET_VARIABLE";
    try {
      (void)load_tokens(h, "/etc/covgate/site.json");
      FAIL("an unset variable is an error");
    } catch (const config_error& e) {
      CHECK(std::string(e.what()).starts_with("/etc/covgate/site.json: /http/tokens_env: "));
    }
  }

  TEST_CASE("a store directory is locked by one holder at a time") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("covgate-lock-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
      const store_lock first(dir);
      CHECK(std::filesystem::exists(dir / "covgate.lock"));
      try {
        const store_lock second(dir);
        FAIL("a second lock on the same directory must be refused");
      } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("is in use by another covgate (pid ") !=
              std::string::npos);
      }
    }
    // Released with its holder.
    CHECK_NOTHROW(store_lock{dir});
    CHECK_NOTHROW(store_lock{":memory:"});
    std::filesystem::remove_all(dir);
  }
}
