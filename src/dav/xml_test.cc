#include "dav/xml.h"

#include <gtest/gtest.h>

#include <string>

namespace rampart::dav {
namespace {

constexpr std::string_view kDav = "DAV:";
constexpr std::string_view kCalDav = "urn:ietf:params:xml:ns:caldav";

XmlElement parsed(std::string_view body, const XmlLimits& limits = {}) {
  auto result = parse_xml(body, limits);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().detail) << "\n" << body;
  return result ? *result : XmlElement{};
}

// The detail of the error parse_xml gives, which must be BadInput.
std::string refusal(std::string_view body, const XmlLimits& limits = {}) {
  auto result = parse_xml(body, limits);
  EXPECT_FALSE(result.has_value()) << body;
  if (result) return "";
  EXPECT_EQ(result.error().code, Errc::BadInput);
  return result.error().detail;
}

std::string repeated(std::string_view text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

TEST(ParseXml, ResolvesPrefixesToNamespaces) {
  const XmlElement root =
      parsed(R"(<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">)"
             R"(<D:prop><D:displayname/><C:calendar-home-set/></D:prop></D:propfind>)");
  EXPECT_EQ(root.ns, kDav);
  EXPECT_EQ(root.name, "propfind");
  const XmlElement* prop = root.child(kDav, "prop");
  ASSERT_NE(prop, nullptr);
  ASSERT_EQ(prop->children.size(), 2u);
  EXPECT_EQ(prop->children[0].ns, kDav);
  EXPECT_EQ(prop->children[0].name, "displayname");
  EXPECT_EQ(prop->children[1].ns, kCalDav);
  EXPECT_EQ(prop->children[1].name, "calendar-home-set");
  EXPECT_EQ(root.child(kCalDav, "prop"), nullptr);  // the namespace counts, not the name
}

TEST(ParseXml, ReadsTheDefaultNamespaceAndItsUndeclaration) {
  const XmlElement root =
      parsed(R"(<propfind xmlns="DAV:"><prop><getetag/>)"
             R"(<x xmlns="http://example.com/ns/"><y/></x><z xmlns=""/></prop></propfind>)");
  EXPECT_EQ(root.ns, kDav);
  const XmlElement& prop = root.children.at(0);
  EXPECT_EQ(prop.ns, kDav);
  EXPECT_EQ(prop.children.at(0).ns, kDav);
  EXPECT_EQ(prop.children.at(1).ns, "http://example.com/ns/");
  EXPECT_EQ(prop.children.at(1).children.at(0).ns, "http://example.com/ns/");
  EXPECT_EQ(prop.children.at(2).ns, "");  // no namespace
  EXPECT_EQ(prop.children.at(2).name, "z");
}

TEST(ParseXml, ReadsAPrefixRedeclaredInsideTheDocument) {
  const XmlElement root = parsed(
      R"(<a:multistatus xmlns:a="DAV:"><a:response>)"
      R"(<a:x xmlns:a="urn:other"><a:y/></a:x><a:href>/h</a:href></a:response></a:multistatus>)");
  const XmlElement& response = root.children.at(0);
  EXPECT_EQ(response.ns, kDav);
  EXPECT_EQ(response.children.at(0).ns, "urn:other");
  EXPECT_EQ(response.children.at(0).children.at(0).ns, "urn:other");
  EXPECT_EQ(response.children.at(1).ns, kDav);  // the redeclaration ended with x
  EXPECT_EQ(response.child(kDav, "href")->text, "/h");
}

TEST(ParseXml, RefusesWhatNamespacesInXmlForbids) {
  EXPECT_EQ(refusal("<D:prop/>"), "line 1: unbound prefix");
  EXPECT_EQ(refusal("<a>\n<D:prop xmlns:D=\"DAV:\"/><D:prop/></a>"), "line 2: unbound prefix");
  EXPECT_EQ(refusal("<a p:x=\"1\"/>"), "line 1: unbound prefix");
  EXPECT_EQ(refusal("<xmlns:a/>"), "line 1: unbound prefix");
  EXPECT_EQ(refusal("<:a/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a:/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a:b:c xmlns:a=\"urn:a\"/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a xmlns:p=\"urn:p\" p:q:r=\"1\"/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a xmlns:=\"urn:p\"/>"), "line 1: a malformed name");
  // Names XML allows, but not as a prefix and a local name.
  EXPECT_EQ(refusal("<a:-b xmlns:a=\"urn:a\"/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a:1 xmlns:a=\"urn:a\"/>"), "line 1: a malformed name");
  EXPECT_EQ(refusal("<a xmlns:a=\"urn:a\" a:\xCC\x80=\"\"/>"), "line 1: a malformed name");
  EXPECT_EQ(parsed("<a:b-1.\xC2\xB7 xmlns:a=\"urn:a\"/>").name, "b-1.\xC2\xB7");
  // Namespaces in XML §3: no prefix may be undeclared, the reserved ones keep their
  // namespaces, and no other name is bound to those.
  EXPECT_EQ(refusal("<a xmlns:p=\"\"/>"), "line 1: a prefix undeclared");
  EXPECT_EQ(refusal("<a xmlns:xmlns=\"urn:x\"/>"), "line 1: the xmlns prefix declared");
  EXPECT_EQ(refusal("<a xmlns:xml=\"urn:x\"/>"),
            "line 1: a reserved namespace bound to another prefix");
  EXPECT_EQ(refusal("<a xmlns:p=\"http://www.w3.org/XML/1998/namespace\"/>"),
            "line 1: a reserved namespace bound to another prefix");
  EXPECT_EQ(refusal("<a xmlns=\"http://www.w3.org/XML/1998/namespace\"/>"),
            "line 1: a reserved namespace bound to another prefix");
  EXPECT_EQ(refusal("<a xmlns:p=\"http://www.w3.org/2000/xmlns/\"/>"),
            "line 1: a reserved namespace bound to another prefix");
  // Two spellings of one expanded name (§6.3).
  EXPECT_EQ(refusal("<a xmlns:p=\"urn:p\" xmlns:q=\"urn:p\" p:x=\"1\" q:x=\"2\"/>"),
            "line 1: duplicate attribute");
  // What is allowed: the xml prefix declared as it is, or used on an element.
  EXPECT_EQ(parsed("<xml:a xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"/>").ns,
            "http://www.w3.org/XML/1998/namespace");
  EXPECT_EQ(parsed("<xml:a/>").ns, "http://www.w3.org/XML/1998/namespace");
  EXPECT_EQ(parsed("<a xmlns:p=\"urn:p\" p:x=\"1\" x=\"2\"/>").attributes.size(), 2u);
}

TEST(ParseXml, ReadsAPropfindWithWhitespaceKeptAsText) {
  const XmlElement root = parsed(
      "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
      "<!-- a comment -->\n"
      "<d:propfind xmlns:d=\"DAV:\" xmlns:cs=\"http://calendarserver.org/ns/\">\n"
      "  <d:prop>\n"
      "    <d:resourcetype />\n"
      "    <cs:getctag />\n"
      "  </d:prop>\n"
      "</d:propfind>\n");
  EXPECT_EQ(root.name, "propfind");
  EXPECT_EQ(root.text, "\n  \n");
  const auto props = root.child(kDav, "prop");
  ASSERT_NE(props, nullptr);
  EXPECT_EQ(props->children.size(), 2u);
  EXPECT_NE(props->child("http://calendarserver.org/ns/", "getctag"), nullptr);
}

TEST(ParseXml, ReadsACalendarQueryReport) {
  const XmlElement root =
      parsed(R"(<?xml version="1.0" encoding="UTF-8"?>)"
             R"(<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">)"
             R"(<D:prop><D:getetag/><C:calendar-data/></D:prop>)"
             R"(<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">)"
             R"(<C:time-range start="20060104T000000Z" end="20060105T000000Z"/>)"
             R"(</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>)");
  EXPECT_EQ(root.ns, kCalDav);
  EXPECT_EQ(root.name, "calendar-query");
  const XmlElement* calendar = root.child(kCalDav, "filter")->child(kCalDav, "comp-filter");
  EXPECT_EQ(calendar->attribute("name"), "VCALENDAR");
  const XmlElement* range = calendar->child(kCalDav, "comp-filter")->child(kCalDav, "time-range");
  ASSERT_NE(range, nullptr);
  EXPECT_EQ(range->attribute("start"), "20060104T000000Z");
  EXPECT_EQ(range->attribute("end"), "20060105T000000Z");
  EXPECT_EQ(range->attribute("missing"), "");
}

TEST(ParseXml, ReadsAMultigetsHrefsInOrder) {
  const XmlElement root =
      parsed(R"(<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">)"
             R"(<D:prop><D:getetag/></D:prop><D:href>/a.ics</D:href><D:href>/b%20c.ics</D:href>)"
             R"(</C:calendar-multiget>)");
  const auto hrefs = root.children_named(kDav, "href");
  ASSERT_EQ(hrefs.size(), 2u);
  EXPECT_EQ(hrefs[0]->text, "/a.ics");
  EXPECT_EQ(hrefs[1]->text, "/b%20c.ics");
}

TEST(ParseXml, NamesNamespacedAttributesWithTheirNamespace) {
  const XmlElement root =
      parsed(R"(<a xmlns:x="urn:x" x:one="1" two="2" xml:lang="en"><b x:one="3"/></a>)");
  EXPECT_EQ(root.attributes, (std::vector<std::pair<std::string, std::string>>{
                                 {"{urn:x}one", "1"},
                                 {"two", "2"},
                                 {"{http://www.w3.org/XML/1998/namespace}lang", "en"}}));
  EXPECT_EQ(root.attribute("{urn:x}one"), "1");
  EXPECT_EQ(root.attribute("one"), "");
  EXPECT_EQ(root.children.at(0).attribute("{urn:x}one"), "3");
}

TEST(ParseXml, ReadsPredefinedEntitiesCharacterReferencesAndCdata) {
  const XmlElement root =
      parsed("<a b=\"&quot;&#x9;\">&lt;&amp;&gt;&apos;&#233;&#x1F600;<![CDATA[<x>&amp;]]></a>");
  EXPECT_EQ(root.text, "<&>'\xC3\xA9\xF0\x9F\x98\x80<x>&amp;");
  EXPECT_EQ(root.attribute("b"), "\"\t");
}

TEST(ParseXml, RefusesAReferenceToAnUndeclaredEntity) {
  EXPECT_EQ(refusal("<a>&nbsp;</a>"), "line 1: undefined entity");
  EXPECT_EQ(refusal("<a b=\"&foo;\"/>"), "line 1: undefined entity");
}

TEST(ParseXml, RefusesTheBillionLaughs) {
  const std::string body =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE lolz [\n"
      " <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
      " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
      " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
      " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
      " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
      " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
      "]>\n"
      "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:displayname>&lol9;</D:displayname>"
      "</D:prop></D:propfind>\n";
  EXPECT_EQ(refusal(body), "line 2: DTD not allowed");
}

TEST(ParseXml, RefusesAnExternalEntityWithoutReadingIt) {
  // Whatever /etc/passwd holds, nothing of it may reach the tree or the error.
  const std::string body =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE propfind [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
      "<propfind xmlns=\"DAV:\"><prop><displayname>&xxe;</displayname></prop></propfind>";
  EXPECT_EQ(refusal(body), "line 2: DTD not allowed");
  EXPECT_EQ(refusal("<!DOCTYPE propfind SYSTEM \"file:///etc/passwd\"><propfind/>"),
            "line 1: DTD not allowed");
  EXPECT_EQ(refusal("<!DOCTYPE p [<!ENTITY % e SYSTEM \"http://127.0.0.1:1/x\"> %e;]><p/>"),
            "line 1: DTD not allowed");
}

TEST(ParseXml, RefusesAnyDocumentTypeDeclaration) {
  EXPECT_EQ(refusal("<!DOCTYPE a><a/>"), "line 1: DTD not allowed");
  EXPECT_EQ(refusal("<!DOCTYPE a [<!ATTLIST a b CDATA \"c\">]><a/>"), "line 1: DTD not allowed");
}

TEST(ParseXml, ReadsOnlyUtf8) {
  EXPECT_EQ(parsed("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\xC3\xA9</a>").text, "\xC3\xA9");
  EXPECT_EQ(parsed("<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>").name, "a");
  EXPECT_EQ(parsed("<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>x</a>").text, "x");
  EXPECT_EQ(parsed("\xEF\xBB\xBF<a>\xC3\xA9</a>").text, "\xC3\xA9");  // a UTF-8 byte order mark
  EXPECT_EQ(refusal("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>"),
            "line 1: encoding other than UTF-8");
  EXPECT_EQ(refusal("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"),
            "line 1: encoding other than UTF-8");
  EXPECT_EQ(refusal("<?xml version=\"1.0\" encoding=\"x-unknown\"?><a/>"),
            "line 1: encoding other than UTF-8");
  EXPECT_EQ(refusal(std::string("\xFF\xFE<\0a\0/\0>\0", 10)), "line 1: encoding other than UTF-8");
  EXPECT_EQ(refusal(std::string("<\0a\0/\0>\0", 8)), "line 1: encoding other than UTF-8");
  // Latin-1 bytes sent as UTF-8, and bytes past ASCII declared as US-ASCII.
  EXPECT_EQ(refusal("<a>caf\xE9</a>"), "line 1: not well-formed (invalid token)");
  EXPECT_EQ(refusal("<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>\xC3\xA9</a>"),
            "line 1: not well-formed (invalid token)");
}

TEST(ParseXml, RefusesMalformedDocumentsNamingTheLine) {
  EXPECT_EQ(refusal(""), "line 1: no element found");
  EXPECT_EQ(refusal("   \n"), "line 2: no element found");
  EXPECT_EQ(refusal("just text"), "line 1: syntax error");
  EXPECT_EQ(refusal("<a>\n<b>\n</a>"), "line 3: mismatched tag");
  EXPECT_EQ(refusal("<a>\n<b/>"), "line 2: no element found");
  EXPECT_EQ(refusal("<a/><b/>"), "line 1: junk after document element");
  EXPECT_EQ(refusal("<a x=\"1\" x=\"2\"/>"), "line 1: duplicate attribute");
  EXPECT_EQ(refusal("<a>&#1;</a>"), "line 1: reference to invalid character number");
  EXPECT_EQ(refusal(std::string("<a>\0</a>", 8)), "line 1: encoding other than UTF-8");
}

TEST(ParseXml, RefusesABodyOverTheByteLimit) {
  const std::string body = "<a>" + std::string(100, 'x') + "</a>";
  EXPECT_EQ(parsed(body, {.max_bytes = body.size()}).text.size(), 100u);
  EXPECT_EQ(refusal(body, {.max_bytes = body.size() - 1}), "body larger than 106 bytes");
}

TEST(ParseXml, RefusesNestingPastTheDepthLimit) {
  const auto nested = [](std::size_t depth) {
    return repeated("<a>", depth) + repeated("</a>", depth);
  };
  parsed(nested(32));
  EXPECT_EQ(refusal(nested(33)), "line 1: elements nested more than 32 deep");
  // Refused where the limit is passed, not after the document is read.
  EXPECT_EQ(refusal(repeated("<a>\n", 5) + "<unclosed", {.max_depth = 4}),
            "line 5: elements nested more than 4 deep");
}

TEST(ParseXml, RefusesMoreElementsThanTheLimit) {
  const auto siblings = [](std::size_t count) { return "<a>" + repeated("<b/>", count) + "</a>"; };
  parsed(siblings(19999));
  EXPECT_EQ(refusal(siblings(20000)), "line 1: more than 20000 elements");
  EXPECT_EQ(refusal("<a>\n<b/>\n<b/>\n<b/>\n", {.max_elements = 3}),
            "line 4: more than 3 elements");
}

TEST(ParseXml, RefusesMoreTextThanTheLimit) {
  const XmlLimits limits{.max_text = 10};
  EXPECT_EQ(parsed("<a>12345<b>67890</b></a>", limits).children.at(0).text, "67890");
  EXPECT_EQ(refusal("<a>12345<b>67890</b>1</a>", limits), "line 1: more than 10 bytes of text");
  // Character references and CDATA count as the text they give.
  EXPECT_EQ(refusal("<a><![CDATA[12345678901]]></a>", limits),
            "line 1: more than 10 bytes of text");
}

TEST(ParseXml, RefusesANamespaceCopiedOntoEveryElementPastTheNameLimit) {
  // 5 bytes of body per element, but each element holds the 1000-byte URI.
  const std::string uri = "urn:" + std::string(996, 'x');
  const std::string body = "<p:a xmlns:p=\"" + uri + "\">" + repeated("<p:b/>", 5000) + "</p:a>";
  EXPECT_EQ(refusal(body), "line 1: more than 4194304 bytes of names");
  EXPECT_EQ(parsed(body, {.max_names = 5001 * 1001}).children.size(), 5000u);
  // The same through namespaced attributes, all in one start tag: each would be a copy
  // of the URI, so the limit is checked before copying (in expat's namespace mode this
  // body makes expat alone hold a gigabyte).
  std::string tag = "<a xmlns:p=\"" + uri + "\"";
  for (int i = 0; tag.size() < (1 << 20) - 100; ++i) tag += " p:a" + std::to_string(i) + "=''";
  EXPECT_EQ(refusal(tag + "/>"), "line 1: more than 4194304 bytes of names");
  EXPECT_EQ(refusal("<a xmlns:p=\"" + uri + "\" p:x=\"\" p:y=\"\" p:z=\"\"/>", {.max_names = 3000}),
            "line 1: more than 3000 bytes of names");
}

TEST(XmlWriter, DeclaresTheDavPrefixesOnTheRoot) {
  XmlWriter w;
  w.open(kDav, "multistatus");
  w.open(kDav, "response");
  w.leaf(kDav, "href", "/dav/calendars/jo/");
  w.open(kDav, "propstat");
  w.open(kDav, "prop");
  w.open(kDav, "resourcetype");
  w.empty(kDav, "collection");
  w.empty(kCalDav, "calendar");
  w.close();
  w.empty(kCalDav, "supported-calendar-component-set");
  w.close();
  w.leaf(kDav, "status", "HTTP/1.1 200 OK");
  EXPECT_EQ(w.finish(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" "
            "xmlns:card=\"urn:ietf:params:xml:ns:carddav\" xmlns:cs=\"http://calendarserver.org/"
            "ns/\" xmlns:ical=\"http://apple.com/ns/ical/\"><d:response><d:href>/dav/calendars/jo/"
            "</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><c:calendar/>"
            "</d:resourcetype><c:supported-calendar-component-set/></d:prop><d:status>HTTP/1.1 "
            "200 OK</d:status></d:propstat></d:response></d:multistatus>");
}

TEST(XmlWriter, DeclaresAnUnknownNamespaceOnTheElementThatUsesIt) {
  XmlWriter w(std::vector<XmlNamespace>{{"d", "DAV:"}});
  w.open(kDav, "prop");
  w.empty("http://example.com/ns/", "color");
  w.open("urn:x", "outer");
  w.empty("urn:x", "inner");  // inherits the default
  w.empty("", "plain");       // no namespace: the default undone
  w.empty(kDav, "getetag");
  w.close();
  const std::string document = w.finish();
  EXPECT_EQ(document,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<d:prop xmlns:d=\"DAV:\"><color xmlns=\"http://example.com/ns/\"/>"
            "<outer xmlns=\"urn:x\"><inner/><plain xmlns=\"\"/><d:getetag/></outer></d:prop>");
  const XmlElement root = parsed(document);
  EXPECT_EQ(root.children.at(0).ns, "http://example.com/ns/");
  const XmlElement& outer = root.children.at(1);
  EXPECT_EQ(outer.children.at(0).ns, "urn:x");
  EXPECT_EQ(outer.children.at(1).ns, "");
  EXPECT_EQ(outer.children.at(2).ns, kDav);
}

TEST(XmlWriter, WritesAttributesWithTheirNamespaces) {
  XmlWriter w(std::vector<XmlNamespace>{{"c", std::string(kCalDav)}});
  w.open(kCalDav, "supported-calendar-data");
  w.empty(kCalDav, "calendar-data", {{"content-type", "text/calendar"}, {"version", "2.0"}});
  w.empty("", "x", {{"{urn:a}one", "1"}, {"{urn:b}two", "2"}, {"{urn:a}three", "3"}});
  w.empty("", "y", {{"{urn:ietf:params:xml:ns:caldav}name", "n"}});
  w.empty("", "z", {{"{http://www.w3.org/XML/1998/namespace}lang", "en"}});
  const std::string document = w.finish();
  EXPECT_NE(document.find("<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>"),
            std::string::npos);
  EXPECT_NE(document.find("<x xmlns:ns1=\"urn:a\" ns1:one=\"1\" xmlns:ns2=\"urn:b\" "
                          "ns2:two=\"2\" ns1:three=\"3\"/>"),
            std::string::npos)
      << document;
  EXPECT_NE(document.find("<y c:name=\"n\"/>"), std::string::npos) << document;
  EXPECT_NE(document.find("<z xml:lang=\"en\"/>"), std::string::npos) << document;
  const XmlElement root = parsed(document);
  EXPECT_EQ(root.children.at(1).attribute("{urn:b}two"), "2");
  EXPECT_EQ(root.children.at(1).attribute("{urn:a}three"), "3");
  EXPECT_EQ(root.children.at(2).attribute("{urn:ietf:params:xml:ns:caldav}name"), "n");
}

TEST(XmlWriter, EscapesMarkupAndKeepsWhitespaceExact) {
  XmlWriter w;
  w.open(kDav, "prop", {{"a", "<\"&>\t\n\r"}});
  w.leaf(kDav, "displayname", "Tom & Jerry <\"x\"> ]]> a\r\nb\tc");
  const std::string document = w.finish();
  EXPECT_NE(document.find("a=\"&lt;&quot;&amp;&gt;&#9;&#10;&#13;\""), std::string::npos);
  EXPECT_NE(document.find("Tom &amp; Jerry &lt;&quot;x&quot;&gt; ]]&gt; a&#13;\nb\tc"),
            std::string::npos);
  const XmlElement root = parsed(document);
  EXPECT_EQ(root.attribute("a"), "<\"&>\t\n\r");
  EXPECT_EQ(root.children.at(0).text, "Tom & Jerry <\"x\"> ]]> a\r\nb\tc");
}

TEST(XmlWriter, DropsCharactersXmlForbidsAndReplacesBytesThatAreNotUtf8) {
  XmlWriter w;
  w.leaf(kDav, "displayname",
         std::string("a\0b\x01\x1F\x7F", 6) + "\xEF\xBF\xBE\xEF\xBF\xBF" + "caf\xE9" +
             "\xED\xA0\x80" + "\xC0\xAF" + "\xF4\x90\x80\x80" + "\xF0\x9F\x98\x80" + "\xE2\x82");
  const XmlElement root = parsed(w.finish());
  EXPECT_EQ(root.text,
            "ab\x7F"
            "caf\xEF\xBF\xBD"
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"              // a surrogate, byte by byte
            "\xEF\xBF\xBD\xEF\xBF\xBD"                          // an overlong slash
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"  // past U+10FFFF
            "\xF0\x9F\x98\x80"
            "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}

TEST(XmlWriter, WritesWellFormedXmlFromAnyBytes) {
  std::string every_byte;
  for (int byte = 0; byte < 256; ++byte) every_byte += static_cast<char>(byte);
  for (std::size_t start = 0; start < every_byte.size(); ++start) {
    XmlWriter w;
    w.open("urn:\x01<\"&" + every_byte.substr(start, 3), "a", {{"v", every_byte.substr(start, 4)}});
    w.text(every_byte.substr(start, 5));
    ASSERT_TRUE(parse_xml(w.finish())) << "from byte " << start;
  }
}

TEST(XmlWriter, WritesAParsedTreeBackAsItWasRead) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"http://ns.example.com/z/\">\n"
      "  <D:set>\n"
      "    <D:prop>\n"
      "      <Z:Authors Z:kind=\"people\" xml:lang=\"en\">\n"
      "        <Z:Author>Jim &amp; Roy</Z:Author>\n"
      "        <Author xmlns=\"\">&lt;none&gt;</Author>\n"
      "        <x:y xmlns:x=\"urn:x\" xmlns=\"urn:default\"><z a=\"&#9;&#10;&#13;\"/>&#13;</x:y>\n"
      "        <q:w xmlns:q=\"urn:{odd}&#10;\" q:v=\"}\"/>\n"
      "      </Z:Authors>\n"
      "      <D:displayname><![CDATA[a<b]]></D:displayname>\n"
      "    </D:prop>\n"
      "  </D:set>\n"
      "</D:propertyupdate>\n";
  const XmlElement tree = parsed(body);
  XmlWriter whole;
  whole.element(tree);
  EXPECT_EQ(parsed(whole.finish()), tree);
  // A dead property alone, as a PROPFIND answer returns it, inside a response.
  const XmlElement& authors = tree.child(kDav, "set")->child(kDav, "prop")->children.at(0);
  XmlWriter w;
  w.open(kDav, "prop");
  w.element(authors);
  const XmlElement reparsed = parsed(w.finish());
  ASSERT_EQ(reparsed.children.size(), 1u);
  EXPECT_EQ(reparsed.children[0], authors);
}

TEST(XmlWriter, FinishClosesWhatIsOpen) {
  XmlWriter w(std::vector<XmlNamespace>{});
  w.open("", "a");
  w.open("", "b");
  EXPECT_EQ(w.finish(), "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a><b></b></a>");
}

}  // namespace
}  // namespace rampart::dav
