#include "dav/xml.h"

#include <expat.h>

#include <algorithm>
#include <cassert>
#include <map>
#include <memory>
#include <optional>

#include "base/ascii.h"

namespace rampart::dav {

const XmlElement* XmlElement::child(std::string_view ns, std::string_view name) const {
  for (const XmlElement& c : children) {
    if (c.ns == ns && c.name == name) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::children_named(std::string_view ns,
                                                          std::string_view name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children) {
    if (c.ns == ns && c.name == name) out.push_back(&c);
  }
  return out;
}

std::string_view XmlElement::attribute(std::string_view name) const {
  for (const auto& [key, value] : attributes) {
    if (key == name) return value;
  }
  return {};
}

namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kXmlnsNamespace = "http://www.w3.org/2000/xmlns/";

// The length of the UTF-8 sequence at the front of `s` and its code point in `code`,
// or 0 when the bytes there are not UTF-8 (overlong forms and surrogates included).
std::size_t decode_utf8(std::string_view s, char32_t& code) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead < 0x80) {
    code = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;  // U+D800..U+DFFF are surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if (i > 1 && (byte(i) < 0x80 || byte(i) > 0xBF)) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  return length;
}

// A qualified name split at its colon: "p:local" or "local" (no prefix).
struct QualifiedName {
  std::string_view prefix;
  std::string_view local;
};

// Expat has checked `name` is an XML name; Namespaces in XML §3 (QName) asks more: at
// most one colon, and the part after it must itself start a name, not with a character
// XML allows only inside one (XML 1.0 §2.3 NameChar less NameStartChar).
std::optional<QualifiedName> split_qname(std::string_view name) {
  const auto colon = name.find(':');
  if (colon == std::string_view::npos) return QualifiedName{{}, name};
  if (colon == 0 || colon + 1 == name.size() || name.find(':', colon + 1) != name.npos) {
    return std::nullopt;
  }
  const std::string_view local = name.substr(colon + 1);
  char32_t first = 0;
  if (decode_utf8(local, first) == 0) return std::nullopt;
  if (first == '-' || first == '.' || (first >= '0' && first <= '9') || first == 0xB7 ||
      (first >= 0x300 && first <= 0x36F) || first == 0x203F || first == 0x2040) {
    return std::nullopt;
  }
  return QualifiedName{name.substr(0, colon), local};
}

// Builds the tree from expat's callbacks, and stops the parser the moment the document
// passes a limit or shows something refused. After a stop expat may still deliver a
// few callbacks (XML_StopParser's documentation), so each one checks `failed()` first.
//
// Namespaces are resolved here, not by expat's namespace mode: that mode expands every
// prefixed attribute of a start tag into a fresh copy of its URI before any handler
// runs, so one 1 MB tag of short attributes under a 1000-byte URI would have expat hold
// over 1 GB. Here a name is counted against max_names before it is copied.
class TreeBuilder {
 public:
  TreeBuilder(XML_Parser parser, const XmlLimits& limits) : parser_(parser), limits_(limits) {
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, on_start, on_end);
    XML_SetCharacterDataHandler(parser, on_text);
    XML_SetXmlDeclHandler(parser, on_xml_declaration);
    // No DTD means no entity declarations: no entity expansion at all, and a reference
    // to anything but the predefined entities is expat's "undefined entity" error.
    XML_SetStartDoctypeDeclHandler(parser, on_doctype);
    // Unreachable once the DTD is refused; kept so that no later change can make expat
    // read a file or a URL named by the client.
    XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetExternalEntityRefHandler(parser, on_external_entity);
    XML_SetEntityDeclHandler(parser, on_entity_declaration);
    XML_SetSkippedEntityHandler(parser, on_skipped_entity);
  }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::optional<XmlElement>& root() { return root_; }

  // Records the first problem with its line and stops the parser.
  void stop(std::string_view problem) {
    if (failed()) return;
    error_ = "line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ": ";
    error_ += problem;
    XML_StopParser(parser_, XML_FALSE);
  }

 private:
  static TreeBuilder& self(void* data) { return *static_cast<TreeBuilder*>(data); }

  // Counts `size` more bytes of names; false (and stopped) past the limit.
  bool hold_names(std::size_t size) {
    names_ += size;
    if (names_ <= limits_.max_names) return true;
    stop("more than " + std::to_string(limits_.max_names) + " bytes of names");
    return false;
  }

  // The namespace `prefix` is bound to here ("" for the default), if any. The xml
  // prefix is bound without a declaration (Namespaces in XML §3).
  std::optional<std::string_view> lookup(std::string_view prefix) const {
    if (prefix == "xml") return kXmlNamespace;
    const auto found = bindings_.find(prefix);
    if (found == bindings_.end() || found->second.empty()) return std::nullopt;
    return found->second.back();
  }

  // Applies one namespace declaration (an attribute named xmlns or xmlns:prefix) to the
  // element being opened; false (and stopped) when Namespaces in XML §3 forbids it.
  bool declare(std::string_view prefix, std::string_view uri) {
    const bool reserved_uri = uri == kXmlNamespace || uri == kXmlnsNamespace;
    if (prefix == "xmlns") {
      stop("the xmlns prefix declared");
      return false;
    }
    if (prefix == "xml" ? uri != kXmlNamespace : reserved_uri) {
      stop("a reserved namespace bound to another prefix");
      return false;
    }
    if (uri.empty() && !prefix.empty()) {
      stop("a prefix undeclared");  // Namespaces in XML 1.0 let only the default be undone
      return false;
    }
    auto found = bindings_.find(prefix);
    if (found == bindings_.end()) {
      found = bindings_.emplace(prefix, std::vector<std::string>{}).first;
    }
    found->second.emplace_back(uri);
    declared_.back().emplace_back(prefix);
    return true;
  }

  static void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** attributes) {
    TreeBuilder& b = self(data);
    if (b.failed()) return;
    if (b.open_.size() >= b.limits_.max_depth) {
      b.stop("elements nested more than " + std::to_string(b.limits_.max_depth) + " deep");
      return;
    }
    if (++b.elements_ > b.limits_.max_elements) {
      b.stop("more than " + std::to_string(b.limits_.max_elements) + " elements");
      return;
    }
    // Declarations first: they apply to the element's own name and attributes.
    b.declared_.emplace_back();
    for (const XML_Char** a = attributes; *a; a += 2) {
      const std::string_view key = a[0];
      if (key == "xmlns" || key.starts_with("xmlns:")) {
        const auto qname = split_qname(key);
        if (!qname) {
          b.stop("a malformed name");
          return;
        }
        if (!b.declare(key == "xmlns" ? std::string_view() : qname->local, a[1])) {
          return;
        }
      }
    }
    const auto qname = split_qname(name);
    if (!qname) {
      b.stop("a malformed name");
      return;
    }
    const auto ns = b.lookup(qname->prefix);
    if (!qname->prefix.empty() && !ns) {
      b.stop("unbound prefix");
      return;
    }
    const std::string_view element_ns = ns.value_or(std::string_view());
    if (!b.hold_names(element_ns.size() + qname->local.size())) return;
    XmlElement element{.ns = std::string(element_ns), .name = std::string(qname->local)};
    for (const XML_Char** a = attributes; *a; a += 2) {
      const std::string_view key = a[0];
      if (key == "xmlns" || key.starts_with("xmlns:")) continue;
      const auto attribute = split_qname(key);
      if (!attribute) {
        b.stop("a malformed name");
        return;
      }
      // An unprefixed attribute is in no namespace, whatever the default (§6.2).
      std::string_view attribute_ns;
      if (!attribute->prefix.empty()) {
        const auto bound = b.lookup(attribute->prefix);
        if (!bound) {
          b.stop("unbound prefix");
          return;
        }
        attribute_ns = *bound;
      }
      if (!b.hold_names(attribute_ns.size() + 2 * !attribute_ns.empty() +
                        attribute->local.size())) {
        return;
      }
      std::string expanded;
      if (!attribute_ns.empty()) expanded.append("{").append(attribute_ns).append("}");
      expanded.append(attribute->local);
      element.attributes.emplace_back(std::move(expanded), a[1]);
    }
    // Expat refuses a name written twice; two prefixes bound to one URI give the same
    // expanded name under different spellings (§6.3).
    std::vector<std::string_view> names;
    names.reserve(element.attributes.size());
    for (const auto& attribute : element.attributes) names.push_back(attribute.first);
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
      b.stop("duplicate attribute");
      return;
    }
    b.open_.push_back(std::move(element));
  }

  static void XMLCALL on_end(void* data, const XML_Char*) {
    TreeBuilder& b = self(data);
    if (b.failed() || b.open_.empty()) return;
    XmlElement element = std::move(b.open_.back());
    b.open_.pop_back();
    for (const std::string& prefix : b.declared_.back()) {
      b.bindings_.find(prefix)->second.pop_back();
    }
    b.declared_.pop_back();
    if (b.open_.empty()) {
      b.root_ = std::move(element);
    } else {
      b.open_.back().children.push_back(std::move(element));
    }
  }

  static void XMLCALL on_text(void* data, const XML_Char* text, int length) {
    TreeBuilder& b = self(data);
    if (b.failed() || b.open_.empty() || length <= 0) return;
    b.text_ += static_cast<std::size_t>(length);
    if (b.text_ > b.limits_.max_text) {
      b.stop("more than " + std::to_string(b.limits_.max_text) + " bytes of text");
      return;
    }
    b.open_.back().text.append(text, static_cast<std::size_t>(length));
  }

  // Without a declared encoding expat reads UTF-8 (parse_xml refuses UTF-16 up front).
  static void XMLCALL on_xml_declaration(void* data, const XML_Char*, const XML_Char* encoding,
                                         int) {
    if (encoding && !iequals(encoding, "UTF-8") && !iequals(encoding, "US-ASCII")) {
      self(data).stop("encoding other than UTF-8");
    }
  }

  static void XMLCALL on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*,
                                 int) {
    self(data).stop("DTD not allowed");
  }

  static void XMLCALL on_entity_declaration(void* data, const XML_Char*, int, const XML_Char*, int,
                                            const XML_Char*, const XML_Char*, const XML_Char*,
                                            const XML_Char*) {
    self(data).stop("entity declarations not allowed");
  }

  static void XMLCALL on_skipped_entity(void* data, const XML_Char*, int) {
    self(data).stop("unknown entity reference");
  }

  // Expat hands this handler the parser, not the user data; nonzero would let it go on.
  static int XMLCALL on_external_entity(XML_Parser parser, const XML_Char*, const XML_Char*,
                                        const XML_Char*, const XML_Char*) {
    self(XML_GetUserData(parser)).stop("external entities not allowed");
    return XML_STATUS_ERROR;
  }

  XML_Parser parser_;
  const XmlLimits& limits_;
  std::vector<XmlElement> open_;  // the elements not yet ended, the root first
  // The namespaces in scope: each prefix ("" for the default) with its declarations,
  // innermost last. A map, not a hash table, so that no choice of prefixes can make
  // lookups slow.
  std::map<std::string, std::vector<std::string>, std::less<>> bindings_;
  // The prefixes each open element declared, for its end tag to undo; a step longer
  // than open_ while a start tag is read.
  std::vector<std::vector<std::string>> declared_;
  std::optional<XmlElement> root_;
  std::size_t elements_ = 0;
  std::size_t text_ = 0;
  std::size_t names_ = 0;
  std::string error_;
};

struct ParserFree {
  void operator()(XML_Parser parser) const { XML_ParserFree(parser); }
};

// Expat detects UTF-16 from a byte order mark or from a NUL in the first two bytes, and
// then never reports a declared encoding we could refuse; UTF-8 text holds no NUL.
bool looks_like_utf16(std::string_view body) {
  if (body.starts_with("\xFE\xFF") || body.starts_with("\xFF\xFE")) return true;
  return body.find('\0') != std::string_view::npos;
}

}  // namespace

Result<XmlElement> parse_xml(std::string_view body, const XmlLimits& limits) {
  if (body.size() > limits.max_bytes) {
    return fail(Errc::BadInput, "body larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (looks_like_utf16(body)) return fail(Errc::BadInput, "line 1: encoding other than UTF-8");
  std::unique_ptr<XML_ParserStruct, ParserFree> parser(XML_ParserCreate(nullptr));
  if (!parser) return fail(Errc::Internal, "expat: out of memory");
  TreeBuilder builder(parser.get(), limits);
  // XML_Parse takes an int length: a body is fed in pieces well below that.
  constexpr std::size_t kPiece = 1 << 20;
  std::string_view rest = body;
  do {
    const std::size_t size = std::min(rest.size(), kPiece);
    const bool last = size == rest.size();
    if (XML_Parse(parser.get(), rest.data(), static_cast<int>(size), last) != XML_STATUS_OK) {
      if (builder.failed()) return fail(Errc::BadInput, builder.error());
      return fail(Errc::BadInput, "line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) +
                                      ": " + XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    rest.remove_prefix(size);
  } while (!rest.empty());
  if (builder.failed()) return fail(Errc::BadInput, builder.error());
  if (!builder.root()) return fail(Errc::BadInput, "no element found");
  return std::move(*builder.root());
}

std::vector<XmlNamespace> dav_namespaces() {
  return {
      {"d", "DAV:"},
      {"c", "urn:ietf:params:xml:ns:caldav"},
      {"card", "urn:ietf:params:xml:ns:carddav"},
      {"cs", "http://calendarserver.org/ns/"},
      {"ical", "http://apple.com/ns/ical/"},
  };
}

namespace {

// Appends `text` as character data, or as an attribute value between double quotes.
// In a value, tab, LF and CR are written as references because a parser turns the
// literal characters into spaces (XML 1.0 §3.3.3); CR is a reference in content too,
// since a parser turns a literal CR LF into LF (§2.11).
void append_escaped(std::string& out, std::string_view text, bool in_attribute) {
  while (!text.empty()) {
    char32_t code = 0;
    const std::size_t length = decode_utf8(text, code);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      text.remove_prefix(1);
      continue;
    }
    switch (code) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += in_attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += in_attribute ? "&#10;" : "\n";
        break;
      default:
        // XML 1.0 §2.2 Char: no other control character, and neither U+FFFE nor U+FFFF.
        if (code >= 0x20 && code != 0xFFFE && code != 0xFFFF) out.append(text.substr(0, length));
        break;
    }
    text.remove_prefix(length);
  }
}

}  // namespace

XmlWriter::XmlWriter(std::vector<XmlNamespace> namespaces)
    : namespaces_(std::move(namespaces)), out_("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n") {}

std::optional<std::string_view> XmlWriter::known_prefix(std::string_view ns) const {
  // The xml prefix is bound from the start, and no other may be bound to its namespace.
  if (ns == kXmlNamespace) return "xml";
  for (const XmlNamespace& known : namespaces_) {
    if (known.ns == ns) return known.prefix;
  }
  return std::nullopt;
}

void XmlWriter::start_tag(std::string_view ns, std::string_view name, AttributeViews attributes,
                          bool empty) {
  assert(!root_written_ || !open_.empty());  // one root element
  const bool root = open_.empty();
  std::string default_ns = root ? std::string() : open_.back().default_ns;
  std::string tag;
  std::string declarations;
  if (const auto prefix = known_prefix(ns)) {
    tag.append(*prefix).append(":").append(name);
  } else {
    // A namespace nobody told us about becomes the default on this element, which also
    // covers no namespace at all (xmlns="") below an element that set a default.
    tag = name;
    if (ns != default_ns) {
      declarations += " xmlns=\"";
      append_escaped(declarations, ns, true);
      declarations += '"';
      default_ns = ns;
    }
  }
  out_ += '<';
  out_ += tag;
  if (root) {
    for (const XmlNamespace& known : namespaces_) {
      out_.append(" xmlns:").append(known.prefix).append("=\"");
      append_escaped(out_, known.ns, true);
      out_ += '"';
    }
  }
  out_ += declarations;
  // A default namespace never applies to attributes: one in an unknown namespace gets a
  // prefix of its own, declared on this element.
  std::vector<std::pair<std::string_view, std::string>> generated;
  for (const auto& [key, value] : attributes) {
    std::string_view attribute_ns;
    std::string_view local = key;
    // A URI may hold '}', a name never: the last one ends the namespace.
    const auto brace = key.rfind('}');
    if (key.starts_with('{') && brace != std::string_view::npos) {
      attribute_ns = key.substr(1, brace - 1);
      local = key.substr(brace + 1);
    }
    out_ += ' ';
    if (!attribute_ns.empty()) {
      std::optional<std::string_view> prefix = known_prefix(attribute_ns);
      if (!prefix) {
        auto found = std::find_if(generated.begin(), generated.end(),
                                  [&](const auto& g) { return g.first == attribute_ns; });
        if (found == generated.end()) {
          std::string fresh;
          do {
            fresh = "ns" + std::to_string(++generated_prefixes_);
          } while (std::any_of(namespaces_.begin(), namespaces_.end(),
                               [&](const XmlNamespace& known) { return known.prefix == fresh; }));
          out_.append("xmlns:").append(fresh).append("=\"");
          append_escaped(out_, attribute_ns, true);
          out_ += "\" ";
          generated.emplace_back(attribute_ns, std::move(fresh));
          found = generated.end() - 1;
        }
        prefix = found->second;
      }
      out_.append(*prefix).append(":");
    }
    out_.append(local).append("=\"");
    append_escaped(out_, value, true);
    out_ += '"';
  }
  root_written_ = true;
  if (empty) {
    out_ += "/>";
  } else {
    out_ += '>';
    open_.push_back({std::move(tag), std::move(default_ns)});
  }
}

void XmlWriter::open(std::string_view ns, std::string_view name, Attributes attributes) {
  start_tag(ns, name, AttributeViews(attributes.begin(), attributes.size()), false);
}

void XmlWriter::empty(std::string_view ns, std::string_view name, Attributes attributes) {
  start_tag(ns, name, AttributeViews(attributes.begin(), attributes.size()), true);
}

void XmlWriter::close() {
  assert(!open_.empty());
  out_.append("</").append(open_.back().tag).append(">");
  open_.pop_back();
}

void XmlWriter::text(std::string_view text) {
  assert(!open_.empty());
  append_escaped(out_, text, false);
}

void XmlWriter::leaf(std::string_view ns, std::string_view name, std::string_view text) {
  open(ns, name);
  this->text(text);
  close();
}

void XmlWriter::element(const XmlElement& element) {
  std::vector<std::pair<std::string_view, std::string_view>> attributes(element.attributes.begin(),
                                                                        element.attributes.end());
  const bool is_empty = element.text.empty() && element.children.empty();
  start_tag(element.ns, element.name, attributes, is_empty);
  if (is_empty) return;
  text(element.text);
  for (const XmlElement& child : element.children) this->element(child);
  close();
}

std::string XmlWriter::finish() {
  while (!open_.empty()) close();
  return std::move(out_);
}

}  // namespace rampart::dav
