#include "load.hpp"

#include <fstream>
#include <stdexcept>

namespace covgate::app {

server::server_config load_config(const std::filesystem::path& file) {
  if (file.empty()) return {};  // source: "built-in defaults"; the store in ./covgate-data
  return server::parse_config(read_file(file), std::filesystem::absolute(file).parent_path(),
                              file.string());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::string text(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

mapping::tables load_tables(const std::filesystem::path& dir) {
  if (dir.empty()) return mapping::tables::parse(mapping::embedded_sources());
  mapping::table_sources sources;
  const std::pair<const char*, std::string*> files[] = {
      {"loinc.json", &sources.loinc},       {"units.json", &sources.units},
      {"pos.json", &sources.pos},           {"bill-types.json", &sources.bill_types},
      {"taxonomy.json", &sources.taxonomy}, {"qualifications.json", &sources.qualifications},
      {"hcpcs.json", &sources.hcpcs},       {"icd10.json", &sources.icd10},
      {"evidence.json", &sources.evidence}, {"identity.json", &sources.identity},
      {"hl7v2.json", &sources.hl7v2}};
  for (const auto& [name, text] : files) {
    // hl7v2.json is optional: without it the built-in HL7 v2 table is used (tables.hpp).
    if (std::string_view(name) == "hl7v2.json" && !std::filesystem::exists(dir / name)) continue;
    *text = read_file(dir / name);
  }
  return mapping::tables::parse(sources);
}

policy::policy_file load_policy() {
  auto policy = policy::policy_file::parse(policy::embedded_ncd223());
  for (const auto& [name, text] : policy::embedded_overlays()) {
    policy.add_overlay(policy::overlay::parse(text, name));
  }
  return policy;
}

}  // namespace covgate::app
