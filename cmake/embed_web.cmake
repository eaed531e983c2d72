# Generates a .cpp that holds the worklist page's files (web/), so `covgate serve` carries its
# page wherever it runs and nothing is fetched from elsewhere. Run at build time with
# -DSOURCE_DIR=... -DOUTPUT=...
set(assets
  "/|index.html|text/html|utf-8"
  "/ui/app.js|app.js|text/javascript|utf-8"
  "/ui/app.css|app.css|text/css|utf-8"
  "/ui/icon.svg|icon.svg|image/svg+xml|")
set(body "")
set(table "")
set(index 0)
foreach(entry IN LISTS assets)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 url)
  list(GET parts 1 file)
  list(GET parts 2 type)
  list(LENGTH parts n)
  if(n GREATER 3)
    list(GET parts 3 charset)
    if(charset)
      string(ASCII 59 semicolon)
      string(APPEND type "${semicolon} charset=${charset}")
    endif()
  endif()
  file(READ "${SOURCE_DIR}/web/${file}" text)
  if(text MATCHES "\\)covgate_web\"")
    message(FATAL_ERROR "web/${file} holds the raw string's delimiter")
  endif()
  string(APPEND body "constexpr char asset_${index}[] = R\"covgate_web(${text})covgate_web\";\n")
  string(APPEND table "      {\"${url}\", {\"${type}\", {asset_${index}, sizeof asset_${index} - 1}}},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from web/ by cmake/embed_web.cmake. Do not edit.
#include <utility>

#include \"covgate/server/web_assets.hpp\"

namespace covgate::server {
namespace {
${body}
constexpr std::pair<std::string_view, web_asset> assets[] = {
${table}};
}  // namespace

const web_asset* web_asset_at(std::string_view path) noexcept {
  if (path == \"/index.html\") path = \"/\";
  for (const auto& [url, asset] : assets) {
    if (url == path) return &asset;
  }
  return nullptr;
}

}  // namespace covgate::server
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
