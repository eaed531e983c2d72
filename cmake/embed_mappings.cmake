# Generates a .cpp that holds the text of mappings/*.json, so the binary carries its default
# tables wherever it runs. Run at build time with -DSOURCE_DIR=... -DOUTPUT=...
set(files loinc units pos bill-types taxonomy qualifications hcpcs icd10 evidence identity hl7v2)
set(body "")
foreach(name IN LISTS files)
  file(READ "${SOURCE_DIR}/mappings/${name}.json" text)
  string(MAKE_C_IDENTIFIER "${name}" id)
  string(APPEND body "constexpr char ${id}[] = R\"covgate_json(${text})covgate_json\";\n")
endforeach()
file(READ "${SOURCE_DIR}/mappings/policies/ncd223.json" policy_text)
file(GLOB overlay_files "${SOURCE_DIR}/mappings/overlays/*.json")
list(SORT overlay_files)
set(overlay_body "")
set(overlay_list "")
set(index 0)
foreach(path IN LISTS overlay_files)
  file(READ "${path}" text)
  get_filename_component(file_name "${path}" NAME)
  string(APPEND overlay_body "constexpr char overlay_${index}[] = R\"covgate_json(${text})covgate_json\";\n")
  string(APPEND overlay_list "      {\"${file_name}\", overlay_${index}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from mappings/*.json by cmake/embed_mappings.cmake. Do not edit.
#include \"covgate/mapping/tables.hpp\"
#include \"covgate/policy/policy.hpp\"

namespace covgate::mapping {
namespace {
${body}
}  // namespace

const table_sources& embedded_sources() noexcept {
  static const table_sources sources{loinc, units, pos, bill_types, taxonomy,
                                     qualifications, hcpcs, icd10, evidence, identity,
                                     hl7v2};
  return sources;
}

}  // namespace covgate::mapping

namespace covgate::policy {
namespace {
constexpr char ncd223[] = R\"covgate_json(${policy_text})covgate_json\";
}  // namespace

${overlay_body}
std::string_view embedded_ncd223() noexcept { return ncd223; }

const std::vector<std::pair<std::string, std::string>>& embedded_overlays() {
  static const std::vector<std::pair<std::string, std::string>> overlays{
${overlay_list}  };
  return overlays;
}

}  // namespace covgate::policy
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
