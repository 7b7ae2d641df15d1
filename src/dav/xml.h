// The XML under WebDAV, CalDAV and CardDAV (RFC 4918, RFC 4791, RFC 6352, RFC 6578):
// request bodies parsed into a small namespace-aware tree, and response bodies written.
//
// The parser is expat, with namespaces (Namespaces in XML 1.0) resolved by this code,
// hardened for bodies from the network: no document type declaration is accepted, so no
// entity can be declared (no "billion laughs", no external entity ever fetched or read);
// a reference to any entity but the five XML predefines is refused; only UTF-8 (and its
// subset US-ASCII) is read; and every limit stops the parser at the moment it is
// passed, before the tree grows past it. Pure: no I/O, no globals; safe on any thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace rampart::dav {

// One element of a parsed document. Names are split into namespace URI and local
// name; prefixes are gone (Namespaces in XML: only the namespace and the local name
// matter, whatever prefix a client chose).
struct XmlElement {
  std::string ns;  // the namespace URI; empty for an element in no namespace
  std::string name;
  // (name, value) in document order. An attribute in a namespace is named "{ns}name"
  // (a URI may hold '}', a name never: the last '}' ends the namespace); namespace
  // declarations (xmlns, xmlns:p) are not attributes.
  std::vector<std::pair<std::string, std::string>> attributes;
  // Character data directly inside this element, concatenated in order; whitespace
  // between child elements is kept, so callers trim where it is not content.
  std::string text;
  std::vector<XmlElement> children;

  // The first child with this namespace and name, or null.
  const XmlElement* child(std::string_view ns, std::string_view name) const;
  // Every child with this namespace and name, in order.
  std::vector<const XmlElement*> children_named(std::string_view ns, std::string_view name) const;
  // The value of the attribute named `name` ("{ns}name" for a namespaced one); empty
  // when there is none.
  std::string_view attribute(std::string_view name) const;

  bool operator==(const XmlElement&) const = default;
};

// Bounds on what a body may make the parser hold. The defaults are far above any
// PROPFIND, PROPPATCH or REPORT a client sends (a multiget of a thousand hrefs is ~100 KiB).
struct XmlLimits {
  std::size_t max_bytes = 1 << 20;  // the body as sent
  std::size_t max_depth = 32;       // elements inside one another, the root at depth 1
  std::size_t max_elements = 20000;
  std::size_t max_text = 1 << 20;  // character data, summed over the document
  // Namespace URIs and names held, summed over elements and attributes. Each element
  // holds its own copy of its namespace URI, so a long URI declared once and used by
  // many short elements would otherwise grow the tree far beyond the body.
  std::size_t max_names = 4 << 20;
};

// Parses a whole request body. The root element is returned; comments and processing
// instructions are dropped, CDATA sections read as text. An empty body is malformed
// (PROPFIND's "empty body means allprop", RFC 4918 §9.1, is the caller's to check first).
// Every failure is Errc::BadInput (a 400 to the client) with a short detail naming
// the problem and, once parsing began, its line: "line 3: DTD not allowed".
Result<XmlElement> parse_xml(std::string_view body, const XmlLimits& limits = {});

// A namespace the writer declares on the root element, under this prefix.
struct XmlNamespace {
  std::string prefix;
  std::string ns;
};

// The namespaces DAV responses use: d (DAV:), c (CalDAV), card (CardDAV), cs
// (calendarserver.org) and ical (apple.com's iCal extensions).
std::vector<XmlNamespace> dav_namespaces();

// Builds a response document as a string, always well-formed: the caller opens and
// closes elements in nesting order and writes one root element. Element and attribute
// names must be XML names (the writer takes them as given, as they come from this code
// or from a parsed request); text and attribute values may be any bytes: markup
// characters are escaped, characters XML 1.0 forbids (control characters other than
// tab, LF and CR; U+FFFE, U+FFFF) are dropped, and bytes that are not UTF-8 become
// U+FFFD. An element in a namespace not given to the constructor (an unknown property
// echoed back in a 404 propstat) declares it on that element.
class XmlWriter {
 public:
  // An attribute to write: "name", or "{ns}name" for one in a namespace.
  using Attributes = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  explicit XmlWriter(std::vector<XmlNamespace> namespaces = dav_namespaces());

  void open(std::string_view ns, std::string_view name, Attributes attributes = {});
  void close();
  void text(std::string_view text);
  // <name>text</name>
  void leaf(std::string_view ns, std::string_view name, std::string_view text);
  // <name/>
  void empty(std::string_view ns, std::string_view name, Attributes attributes = {});
  // A parsed subtree written back as it was read: a dead property returned verbatim
  // (RFC 4918 §4.3). Its text is written before its children, so text that was
  // interleaved with child elements comes back concatenated, as XmlElement holds it.
  void element(const XmlElement& element);

  // Closes what is still open and returns the document, XML declaration first. The
  // writer is spent afterwards.
  std::string finish();

 private:
  struct Open {
    std::string tag;         // the qualified name its end tag repeats
    std::string default_ns;  // the default namespace in scope inside it
  };
  using AttributeViews = std::span<const std::pair<std::string_view, std::string_view>>;
  void start_tag(std::string_view ns, std::string_view name, AttributeViews attributes, bool empty);
  // The prefix bound to `ns` on the root (or "xml"), if any.
  std::optional<std::string_view> known_prefix(std::string_view ns) const;

  std::vector<XmlNamespace> namespaces_;
  std::vector<Open> open_;
  std::string out_;
  bool root_written_ = false;
  unsigned generated_prefixes_ = 0;
};

}  // namespace rampart::dav
