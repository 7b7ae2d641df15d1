// JMAP Email composition and formatting (src/jmap/compose.h, email_format.h). The first
// byte chooses: even, the rest is an Email/set create object composed into a message
// (which must then parse); odd, the rest is a message whose Email properties are all
// computed. Neither may crash, hang or read out of bounds.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "jmap/compose.h"
#include "jmap/email_format.h"
#include "mime/message.h"

namespace jmap = rampart::jmap;
namespace mime = rampart::mime;

namespace {

void format_all(std::string_view raw) {
  const mime::Message message = mime::parse(raw);
  const jmap::BodyLists lists = jmap::body_lists(message);
  (void)jmap::preview(raw, lists);
  for (const auto* list : {&lists.text, &lists.html, &lists.attachments}) {
    for (const jmap::BodyPartRef& ref : *list) {
      (void)jmap::body_part(raw, *ref.part, ref.part_id, "Bx",
                            {"partId", "blobId", "headers", "name", "type", "charset", "cid",
                             "header:X:all", "subParts"});
      (void)jmap::body_value(raw, *ref.part, 100);
      if (jmap::find_part(message, ref.part_id) != ref.part) __builtin_trap();
    }
  }
  (void)jmap::body_part(raw, message.root, message.root.is_multipart() ? "" : "1", "Bx", {});
  const std::string_view header =
      message.root.body_begin <= raw.size() ? raw.substr(0, message.root.body_begin) : raw;
  for (const char* property :
       {"header:From:asAddresses", "header:To:asGroupedAddresses:all", "header:Subject:asText",
        "header:Date:asDate", "header:References:asMessageIds", "header:List-Post:asURLs",
        "header:X-Any:asRaw:all"}) {
    if (!jmap::header_property(header, property)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    format_all(input);
    return 0;
  }
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(input, error);
  if (error || !value.is_object()) return 0;
  auto composed = jmap::compose_email(
      value.get_object(),
      [](std::string_view id) -> std::optional<jmap::Blob> {
        if (id.empty() || id.front() != 'B') return std::nullopt;
        return jmap::Blob{"attached \r\n\x00\xff bytes", "application/octet-stream"};
      },
      {.hostname = "fuzz.test", .now = 1795442961, .max_attachment_bytes = 1 << 20});
  if (auto* message = std::get_if<std::string>(&composed)) format_all(*message);
  return 0;
}
