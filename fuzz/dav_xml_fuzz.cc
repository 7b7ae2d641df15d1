// WebDAV request bodies: any bytes parse or give a BadInput naming the problem, within
// the limits; a parsed tree written back by XmlWriter::element parses again to the same
// tree; and the writer's escaping makes any text and attribute value well-formed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dav/xml.h"

namespace {

void check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace dav = rampart::dav;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const dav::XmlLimits limits{.max_bytes = 64 * 1024,
                              .max_depth = 16,
                              .max_elements = 500,
                              .max_text = 4096,
                              .max_names = 16 * 1024};
  auto tree = dav::parse_xml(bytes, limits);
  if (tree) {
    dav::XmlWriter writer;
    writer.element(*tree);
    const std::string written = writer.finish();
    // The written form may be longer (prefixes, references); nothing else may change.
    dav::XmlLimits again = limits;
    again.max_bytes = written.size();
    auto reparsed = dav::parse_xml(written, again);
    check(reparsed.has_value());
    check(*reparsed == *tree);
  } else {
    check(tree.error().code == rampart::Errc::BadInput);
    check(tree.error().detail.starts_with("line ") || tree.error().detail.starts_with("body "));
  }

  dav::XmlWriter writer;
  writer.open("DAV:", "prop", {{"value", bytes}, {"{urn:x}value", bytes}});
  writer.leaf("urn:x", "text", bytes);
  const std::string document = writer.finish();
  check(dav::parse_xml(document, {.max_bytes = document.size(), .max_text = document.size()})
            .has_value());
  return 0;
}
