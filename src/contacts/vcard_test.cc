#include "contacts/vcard.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace rampart::contacts {
namespace {

using namespace std::string_literals;
using Strings = std::vector<std::string>;

// The lines joined, each ended by CRLF, as clients send them.
std::string crlf(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view line : lines) {
    out += line;
    out += "\r\n";
  }
  return out;
}

Card parsed(std::string_view text, const Limits& limits = {}) {
  auto card = parse_card(text, limits);
  EXPECT_TRUE(card.has_value()) << (card ? "" : card.error().detail) << "\n" << text;
  return card ? *card : Card{};
}

// The error's detail, after checking that parsing failed with `code`.
std::string refusal(std::string_view text, const Limits& limits = {}, Errc code = Errc::BadInput) {
  auto card = parse_card(text, limits);
  EXPECT_FALSE(card.has_value()) << text;
  if (card) return "";
  EXPECT_EQ(card.error().code, code) << card.error().detail;
  return card.error().detail;
}

// A minimal valid 3.0 card with `middle` between FN and END.
std::string card_with(std::string_view middle) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jo\r\n" + std::string(middle) + "END:VCARD\r\n";
}

const Property* first(const Card& card, std::string_view name) {
  for (const Property& property : card.properties) {
    if (property.name == name) return &property;
  }
  return nullptr;
}

// RFC 6350 §3.4's escapes for a text value, the inverse of unescape_text.
std::string escape_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      if (c == '\\' || c == ',' || c == ';') out += '\\';
      out += c;
    }
  }
  return out;
}

// A 3.0 card holding an AGENT card holding an AGENT card ..., `depth` cards in all, each
// embedded as RFC 2426 §3.5.4 writes it: escaped text on the AGENT line.
std::string escaped_agent_chain(int depth, int level = 1) {
  std::string card = "BEGIN:VCARD\nVERSION:3.0\nFN:Level " + std::to_string(level) + "\n";
  if (level < depth) card += "AGENT:" + escape_text(escaped_agent_chain(depth, level + 1)) + "\n";
  return card + "END:VCARD\n";
}

// The same with vCard 2.1's inline form: BEGIN:VCARD lines inside the card.
std::string inline_agent_chain(int depth) {
  std::string card;
  for (int level = 1; level <= depth; ++level) {
    card += "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Level " + std::to_string(level) + "\r\n";
    if (level < depth) card += "AGENT:\r\n";
  }
  for (int level = 1; level <= depth; ++level) card += "END:VCARD\r\n";
  return card;
}

TEST(Vcard, ReadsAnAppleContactsCard) {
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "PRODID:-//Apple Inc.//macOS 13.4.1//EN",
      "N:Appleseed;Johnny;;Mr.;",
      "FN:Johnny Appleseed",
      "ORG:Example Fruit Co.;",
      "item1.EMAIL;type=INTERNET;type=pref:Johnny@Example.COM",
      "item1.X-ABLabel:_$!<Other>!$_",
      "EMAIL;type=INTERNET;type=WORK:johnny.appleseed@work.example",
      "TEL;type=CELL;type=VOICE;type=pref:+1 (555) 010-4567",
      "item2.ADR;type=HOME;type=pref:;;1 Orchard Road;Cupertino;CA;95014;United States",
      "item2.X-ABADR:us",
      "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsL",
      " DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA",
      "X-ABShowAs:COMPANY",
      "REV:2023-06-01T12:00:00Z",
      "UID:4A1E7C5D-0B3F-4E8A-9C2D-6F5B1A3E9D70",
      "END:VCARD",
  }));
  EXPECT_EQ(card.version, "3.0");
  EXPECT_EQ(card.formatted_name, "Johnny Appleseed");
  EXPECT_EQ(card.names, (Strings{"Appleseed", "Johnny", "", "Mr.", ""}));
  EXPECT_EQ(card.emails, (Strings{"johnny@example.com", "johnny.appleseed@work.example"}));
  EXPECT_EQ(card.phones, (Strings{"+1 (555) 010-4567"}));
  EXPECT_EQ(card.uid, "4A1E7C5D-0B3F-4E8A-9C2D-6F5B1A3E9D70");
  EXPECT_EQ(card.kind, "individual");
  ASSERT_EQ(card.properties.size(), 15u);

  const Property& email = card.properties[5];
  EXPECT_EQ(email.group, "item1");
  EXPECT_EQ(email.name, "EMAIL");
  ASSERT_EQ(email.parameters.size(), 2u);  // type=INTERNET;type=pref: two, in order
  EXPECT_EQ(email.parameters[0].first, "TYPE");
  EXPECT_EQ(email.parameters[0].second, (Strings{"INTERNET"}));
  EXPECT_EQ(email.parameters[1].second, (Strings{"pref"}));
  EXPECT_EQ(email.value, "Johnny@Example.COM");  // the index is lowercased, not the property
  const Property& label = card.properties[6];
  EXPECT_EQ(label.group, "item1");
  EXPECT_EQ(label.name, "X-ABLABEL");
  EXPECT_EQ(label.value, "_$!<Other>!$_");

  const Property* photo = first(card, "PHOTO");
  ASSERT_NE(photo, nullptr);
  // Unfolded: the line end and the fold's space are gone.
  EXPECT_EQ(photo->value,
            "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsL"
            "DBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA");
}

TEST(Vcard, ReadsAnAppleGroup) {
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "PRODID:-//Apple Inc.//AddressBook 6.1//EN",
      "N:Family",
      "FN:Family",
      "X-ADDRESSBOOKSERVER-KIND:group",
      "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:4A1E7C5D-0B3F-4E8A-9C2D-6F5B1A3E9D70",
      "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:0F6C3B2A-1D4E-4A5B-8C9D-7E6F5A4B3C21",
      "UID:9D4C6E1A-2B3F-4C5D-8E7F-1A2B3C4D5E6F",
      "END:VCARD",
  }));
  EXPECT_EQ(card.kind, "group");
  EXPECT_EQ(card.members, (Strings{"urn:uuid:4A1E7C5D-0B3F-4E8A-9C2D-6F5B1A3E9D70",
                                   "urn:uuid:0F6C3B2A-1D4E-4A5B-8C9D-7E6F5A4B3C21"}));
  EXPECT_EQ(card.names, (Strings{"Family"}));
}

TEST(Vcard, ReadsAGoogleCardWithoutUid) {
  // Google's export: no UID (the CardDAV layer knows it by resource name), URL's colon
  // escaped, an X-ABLabel without a value.
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Jane Doe",
      "N:Doe;Jane;;;",
      "EMAIL;TYPE=INTERNET;TYPE=HOME:jane.doe@example.org",
      "TEL;TYPE=CELL:+44 7700 900123",
      "ADR;TYPE=HOME:;;221B Baker Street;London;;NW1 6XE;United Kingdom",
      "NOTE:Met at the conference\\, ask about the book\\nSecond line",
      "item1.URL:https\\://example.org/jane",
      "item1.X-ABLabel:",
      "CATEGORIES:myContacts,starred",
      "END:VCARD",
  }));
  EXPECT_EQ(card.uid, "");
  EXPECT_EQ(card.formatted_name, "Jane Doe");
  EXPECT_EQ(card.emails, (Strings{"jane.doe@example.org"}));
  EXPECT_EQ(unescape_text(first(card, "NOTE")->value),
            "Met at the conference, ask about the book\nSecond line");
  EXPECT_EQ(unescape_text(first(card, "URL")->value), "https://example.org/jane");
  EXPECT_EQ(first(card, "X-ABLABEL")->value, "");
}

TEST(Vcard, ReadsAThunderbirdCard) {
  // Thunderbird 102 and later write vCard 4.0 (through ical.js).
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:4.0",
      "PRODID:-//Mozilla.org/NONSGML Mozilla Contact v1//EN",
      "EMAIL;PREF=1:ada@example.net",
      "EMAIL:Ada.Lovelace@Analytical.example",
      "FN:Ada Lovelace",
      "N:Lovelace;Ada;;;",
      "NICKNAME:Ada",
      "NOTE:Line one\\nLine two",
      "TEL;TYPE=work;VALUE=TEXT:+44 20 7946 0000",
      "TEL;TYPE=cell;VALUE=TEXT:+44 7700 900000",
      "BDAY;VALUE=DATE:18151210",
      "UID:c0a8e1f2-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
      "END:VCARD",
  }));
  EXPECT_EQ(card.version, "4.0");
  EXPECT_EQ(card.emails, (Strings{"ada@example.net", "ada.lovelace@analytical.example"}));
  EXPECT_EQ(card.phones, (Strings{"+44 20 7946 0000", "+44 7700 900000"}));
  EXPECT_EQ(card.uid, "c0a8e1f2-5b6d-4e7f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(first(card, "EMAIL")->parameters[0], (std::pair<std::string, Strings>{"PREF", {"1"}}));
}

TEST(Vcard, ReadsAnEvolutionCard) {
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "UID:pas-id-64C8A1B200000001",
      "FN:Ðorđe Petrović",
      "N:Petrović;Ðorđe;;;",
      "X-EVOLUTION-FILE-AS:Petrović\\, Ðorđe",
      "EMAIL;X-EVOLUTION-UI-SLOT=1;TYPE=HOME:dorde@example.rs",
      "TEL;X-EVOLUTION-UI-SLOT=1;TYPE=CELL:+381 60 1234567",
      "X-EVOLUTION-BLOG-URL:https://blog.example.rs/",
      "REV:2024-01-15T09:30:00Z",
      "END:VCARD",
  }));
  EXPECT_EQ(card.formatted_name, "Ðorđe Petrović");
  EXPECT_EQ(card.names, (Strings{"Petrović", "Ðorđe", "", "", ""}));
  EXPECT_EQ(unescape_text(first(card, "X-EVOLUTION-FILE-AS")->value), "Petrović, Ðorđe");
  const Property* email = first(card, "EMAIL");
  EXPECT_EQ(email->parameters[0], (std::pair<std::string, Strings>{"X-EVOLUTION-UI-SLOT", {"1"}}));
}

TEST(Vcard, ReadsANextcloudCard) {
  // Nextcloud (sabre/vobject) writes TYPE="HOME,VOICE" and folds at 75 octets.
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "PRODID:-//Sabre//Sabre VObject 4.5.4//EN",
      "UID:7b1e5f0a-3c2d-4e6f-9a8b-1c0d2e3f4a5b",
      "FN:Max Mustermann",
      "N:Mustermann;Max;;;",
      "ADR;TYPE=HOME:;;Musterstraße 1;Berlin;;10115;Deutschland",
      "EMAIL;TYPE=HOME:max@example.de",
      "TEL;TYPE=\"HOME,VOICE\":+49 30 1234567",
      "NOTE:Ein sehr langer Hinweis\\, der über die Zeilenlänge von fünfundsiebz",
      " ig Oktetten hinausgeht.",
      "REV;VALUE=DATE-AND-OR-TIME:20240601T120000Z",
      "END:VCARD",
  }));
  const Property* tel = first(card, "TEL");
  ASSERT_NE(tel, nullptr);
  EXPECT_EQ(tel->parameters[0], (std::pair<std::string, Strings>{"TYPE", {"HOME", "VOICE"}}));
  EXPECT_EQ(unescape_text(first(card, "NOTE")->value),
            "Ein sehr langer Hinweis, der über die Zeilenlänge von fünfundsiebzig Oktetten "
            "hinausgeht.");
}

TEST(Vcard, ReadsAVcard4Group) {
  // RFC 6350 §6.6.5's example.
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:4.0",
      "KIND:Group",
      "FN:The Doe family",
      "MEMBER:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af",
      "MEMBER:urn:uuid:b8767877-b4a1-4c70-9acc-505d3819e519",
      "END:VCARD",
  }));
  EXPECT_EQ(card.kind, "group");
  EXPECT_EQ(card.members.size(), 2u);
  EXPECT_TRUE(card.names.empty());
  EXPECT_EQ(parsed(card_with("KIND:\r\n")).kind, "individual");
}

TEST(Vcard, GivesTheSameCardWhereverALineIsFolded) {
  // RFC 6350 §3.2: a fold may fall anywhere, also inside a UTF-8 sequence ("é" is C3 A9).
  const std::string line = "FN:José Ñúñez 東京";
  for (std::size_t cut = 1; cut < line.size(); ++cut) {
    for (std::string_view fold : {"\r\n ", "\r\n\t", "\n ", "\n\t"}) {
      const std::string folded = line.substr(0, cut) + std::string(fold) + line.substr(cut);
      const Card card = parsed("BEGIN:VCARD\r\nVERSION:4.0\r\n" + folded + "\r\nEND:VCARD\r\n");
      EXPECT_EQ(card.formatted_name, "José Ñúñez 東京") << "folded at " << cut;
    }
  }
}

TEST(Vcard, UnfoldingTakesOneSpaceOnly) {
  const Card card = parsed(card_with("NOTE:one\r\n  two\r\n\t\tthree\r\n"));
  EXPECT_EQ(first(card, "NOTE")->value, "one two\tthree");
}

TEST(Vcard, AcceptsBareLineFeedsAByteOrderMarkBlankLinesAndNoFinalLineEnd) {
  const Card card = parsed(
      "\xEF\xBB\xBF"
      "BEGIN:VCARD\nVERSION:4.0\n\nFN:Jo\r\n\r\nEND:VCARD");
  EXPECT_EQ(card.formatted_name, "Jo");
  EXPECT_EQ(parsed(card_with("") + "\r\n\r\n").formatted_name, "Jo");
}

TEST(Vcard, ReadsParameters) {
  const Card card = parsed(card_with(
      "ADR;LABEL=\"Mr. John Q. Public, Esq.^nMail Drop: TNE QB;123 Main St\";TYPE=work,pref:"
      ";;123 Main St;Any Town;CA;91921;U.S.A.\r\n"
      "NOTE;X-CARET=\"^'quoted^' ^^caret ^x\";x-empty=;X-LIST=a,\"b,c\",d:text\r\n"
      "TEL;CELL;voice:+1 555 0100\r\n"));
  const Property* adr = first(card, "ADR");
  ASSERT_NE(adr, nullptr);
  ASSERT_EQ(adr->parameters.size(), 2u);
  // A quoted value keeps its commas, semicolons and colons; ^n is a line feed.
  EXPECT_EQ(adr->parameters[0],
            (std::pair<std::string, Strings>{
                "LABEL", {"Mr. John Q. Public, Esq.\nMail Drop: TNE QB;123 Main St"}}));
  EXPECT_EQ(adr->parameters[1], (std::pair<std::string, Strings>{"TYPE", {"work", "pref"}}));
  EXPECT_EQ(adr->value, ";;123 Main St;Any Town;CA;91921;U.S.A.");

  const Property* note = first(card, "NOTE");
  ASSERT_NE(note, nullptr);
  ASSERT_EQ(note->parameters.size(), 3u);
  EXPECT_EQ(note->parameters[0].second, (Strings{"\"quoted\" ^caret ^x"}));  // RFC 6868
  EXPECT_EQ(note->parameters[1], (std::pair<std::string, Strings>{"X-EMPTY", {""}}));
  EXPECT_EQ(note->parameters[2].second, (Strings{"a", "b,c", "d"}));
  EXPECT_EQ(note->value, "text");

  // vCard 2.1's bare parameters are TYPE values, as sent.
  const Property* tel = first(card, "TEL");
  ASSERT_EQ(tel->parameters.size(), 2u);
  EXPECT_EQ(tel->parameters[0], (std::pair<std::string, Strings>{"TYPE", {"CELL"}}));
  EXPECT_EQ(tel->parameters[1], (std::pair<std::string, Strings>{"TYPE", {"voice"}}));
}

TEST(Vcard, ValuesKeepColonsAndQuotes) {
  const Card card = parsed(card_with("URL;VALUE=uri:https://example.org:8443/a?b=\"c\"\r\n"));
  EXPECT_EQ(first(card, "URL")->value, "https://example.org:8443/a?b=\"c\"");
}

TEST(Vcard, RefusesBrokenParameters) {
  EXPECT_NE(refusal(card_with("TEL;TYPE=\"cell:+1 555\r\n")).find("no closing quote"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("TEL;TYPE=ce\"ll\":+1 555\r\n")).find("double quote"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("TEL;TYPE=\"cell\"x:+1 555\r\n")).find("quoted parameter"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("TEL;TYPE=cell\r\n")).find("followed by ':'"), std::string::npos);
  EXPECT_NE(refusal(card_with("TEL;=cell:1\r\n")).find("parameter starts"), std::string::npos);
  EXPECT_NE(refusal(card_with("TEL;TYPE=cell;:1\r\n")).find("parameter starts"), std::string::npos);
}

TEST(Vcard, RefusesBrokenNamesAndGroups) {
  EXPECT_NE(refusal(card_with(":no name\r\n")).find("line 4: a content line starts with"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("item1.:x\r\n")).find("group is followed"), std::string::npos);
  EXPECT_NE(refusal(card_with("a.b.EMAIL:x@y\r\n")).find("one group at most"), std::string::npos);
  EXPECT_NE(refusal(card_with("NO TE:x\r\n")).find("followed by ':'"), std::string::npos);
  EXPECT_NE(refusal(card_with("NOTE x\r\n")).find("followed by ':'"), std::string::npos);
  // Names are case-insensitive and uppercased; groups are kept as sent.
  const Card card = parsed(card_with("Item1.eMail:x@y\r\nX_ODD-NAME:1\r\n"));
  EXPECT_EQ(card.properties[2].group, "Item1");
  EXPECT_EQ(card.properties[2].name, "EMAIL");
  EXPECT_EQ(card.properties[3].name, "X_ODD-NAME");
}

TEST(Vcard, UnescapesText) {
  EXPECT_EQ(unescape_text("a\\nb\\Nc"), "a\nb\nc");
  EXPECT_EQ(unescape_text("a\\,b\\;c\\\\d"), "a,b;c\\d");
  EXPECT_EQ(unescape_text("https\\://x"), "https://x");  // Google's: the backslash goes
  EXPECT_EQ(unescape_text("\\\\n"), "\\n");              // an escaped backslash, then n
  EXPECT_EQ(unescape_text("end\\"), "end\\");
  EXPECT_EQ(unescape_text(""), "");
  EXPECT_EQ(unescape_text("é\\,"), "é,");
}

TEST(Vcard, SplitsNAtUnescapedSemicolons) {
  const Card card = parsed(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nN:Doe\\;Smith;Jane\\, Q.;Ann,Marie;;\\\\\r\n"
      "N:Second;One\r\nEND:VCARD\r\n");
  EXPECT_EQ(card.names, (Strings{"Doe;Smith", "Jane, Q.", "Ann,Marie", "", "\\"}));
}

TEST(Vcard, KeepsTheFirstFormattedName) {
  // vCard 4.0 allows FN more than once (one per language).
  const Card card = parsed(
      "BEGIN:VCARD\r\nVERSION:4.0\r\nFN;LANGUAGE=en:Tokyo Office\r\nFN;LANGUAGE=ja:東京支社\r\n"
      "END:VCARD\r\n");
  EXPECT_EQ(card.formatted_name, "Tokyo Office");
}

TEST(Vcard, RefusesATextOverMaxBytes) {
  const std::string text = card_with("NOTE:padding\r\n");
  Limits limits{.max_bytes = text.size()};
  EXPECT_EQ(parsed(text, limits).formatted_name, "Jo");
  limits.max_bytes = text.size() - 1;
  EXPECT_NE(refusal(text, limits, Errc::TooBig).find("Limits::max_bytes"), std::string::npos);
  // The default: 1 MiB.
  const std::string big = card_with("NOTE:" + std::string(1 << 20, 'x') + "\r\n");
  refusal(big, {}, Errc::TooBig);
}

TEST(Vcard, RefusesMoreThanMaxProperties) {
  // VERSION and FN count, BEGIN and END do not.
  std::string notes;
  for (int i = 0; i < 8; ++i) notes += "NOTE:n\r\n";
  const Limits limits{.max_properties = 10};
  EXPECT_EQ(parsed(card_with(notes), limits).properties.size(), 10u);
  EXPECT_NE(
      refusal(card_with(notes + "NOTE:n\r\n"), limits).find("line 12: more than 10 properties"),
      std::string::npos);
  // The default, 5000, on a card of 5001 short lines (well under 1 MiB).
  std::string many;
  for (int i = 0; i < 4999; ++i) many += "X:1\r\n";
  refusal(card_with(many));
}

TEST(Vcard, RefusesAContentLineOverMaxLineUnfolded) {
  const Limits limits{.max_line = 100};
  const std::string exact = "NOTE:" + std::string(95, 'x');  // 100 bytes
  EXPECT_EQ(first(parsed(card_with(exact + "\r\n"), limits), "NOTE")->value.size(), 95u);
  // Folded into short lines, the content line is still one line of 101 bytes.
  std::string folded = "NOTE:xxxxxxxx";
  for (int i = 1; i < 12; ++i) folded += "\r\n xxxxxxxx";
  folded += "\r\n";
  EXPECT_NE(refusal(card_with(folded), limits).find("line 4: a content line over 100 bytes"),
            std::string::npos);
  // A text without a single line end is refused at the limit, never gathered whole.
  refusal("BEGIN:VCARD" + std::string(200, 'x'), limits);
  // The default, 64 KiB.
  refusal(card_with("NOTE:" + std::string(64 << 10, 'x') + "\r\n"));
}

TEST(Vcard, RefusesMoreThanMaxParameters) {
  std::string parameters;
  for (int i = 0; i < 64; ++i) parameters += ";X-P" + std::to_string(i) + "=v";
  EXPECT_EQ(first(parsed(card_with("NOTE" + parameters + ":x\r\n")), "NOTE")->parameters.size(),
            64u);
  EXPECT_NE(refusal(card_with("NOTE" + parameters + ";TYPE=x:x\r\n"))
                .find("more than 64 parameters on one property (Limits::max_parameters)"),
            std::string::npos);
  // Bare parameters count the same.
  EXPECT_NE(refusal(card_with("NOTE;A;B;C:x\r\n"), Limits{.max_parameters = 2})
                .find("Limits::max_parameters"),
            std::string::npos);
}

TEST(Vcard, ChecksAnEmbeddedAgentCardButDoesNotIndexIt) {
  // RFC 2426 §3.5.4's example: the AGENT's card escaped as text, folded.
  const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Joe Friday",
      "EMAIL:joe@example.com",
      "AGENT:BEGIN:VCARD\\nFN:Susan Thomas\\nTEL:+1-919-555-",
      " 1234\\nEMAIL\\;INTERNET:sthomas@host.com\\nEND:VCARD\\n",
      "END:VCARD",
  }));
  EXPECT_EQ(card.formatted_name, "Joe Friday");
  EXPECT_EQ(card.emails, (Strings{"joe@example.com"}));
  EXPECT_TRUE(card.phones.empty());
  EXPECT_EQ(card.properties.size(), 4u);

  // A broken embedded card is a broken card.
  EXPECT_NE(refusal(card_with("AGENT:BEGIN:VCARD\\nFN:Susan\\n\r\n"))
                .find("line 4: in the AGENT vCard: no END:VCARD"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("AGENT:BEGIN:VCARD\\nFN:x\\nEND:VCARD\\nNOTE:y\r\n"))
                .find("in the AGENT vCard: line 4: content after END:VCARD"),
            std::string::npos);
  // An AGENT that is a URI or plain text is just a value.
  parsed(card_with("AGENT;VALUE=uri:CID:JQPUBLIC.part3.960129T083020.xyzMail@example.com\r\n"));
  // Its lines count against max_properties: 2 + AGENT + FN + TEL + EMAIL.
  const std::string agent =
      card_with("AGENT:BEGIN:VCARD\\nFN:S\\nTEL:1\\nEMAIL:s@x\\nEND:VCARD\r\n");
  EXPECT_TRUE(parse_card(agent, {.max_properties = 6}).has_value());
  refusal(agent, {.max_properties = 5});
}

TEST(Vcard, RefusesAgentCardsNestedPastMaxNesting) {
  EXPECT_EQ(parsed(escaped_agent_chain(2)).formatted_name, "Level 1");
  EXPECT_NE(refusal(escaped_agent_chain(3))
                .find("in the AGENT vCard: line 4: vCards nested more than 2 deep "
                      "(Limits::max_nesting)"),
            std::string::npos);
  refusal(escaped_agent_chain(8));
  EXPECT_EQ(parsed(escaped_agent_chain(3), {.max_nesting = 3}).formatted_name, "Level 1");

  // vCard 2.1's inline form: refused at the limit however deep the chain goes.
  EXPECT_EQ(parsed(inline_agent_chain(2)).properties.size(), 3u);
  EXPECT_NE(refusal(inline_agent_chain(3)).find("line 9: vCards nested more than 2 deep"),
            std::string::npos);
  refusal(inline_agent_chain(100000), {.max_bytes = 64 << 20});
}

TEST(Vcard, RefusesTwoVcards) {
  const std::string one = card_with("");
  EXPECT_NE(refusal(one + one).find("line 5: a second vCard: one vCard per address object "
                                    "resource (RFC 6352 §5.1)"),
            std::string::npos);
  EXPECT_NE(refusal(one + "\r\n\r\n" + one).find("a second vCard"), std::string::npos);
}

TEST(Vcard, RefusesAMissingEnd) {
  EXPECT_NE(refusal("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jo\r\n").find("no END:VCARD"),
            std::string::npos);
  refusal("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jo\r\nEND:VCALENDAR\r\n");
  // A second BEGIN without its END swallows the first card's END.
  refusal("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jo\r\nAGENT:\r\nBEGIN:VCARD\r\nEND:VCARD\r\n");
}

TEST(Vcard, RefusesGarbage) {
  EXPECT_NE(refusal("").find("blank"), std::string::npos);
  refusal("\r\n  \r\n\t\r\n");
  refusal("hello");
  refusal("<html><body>Not found</body></html>\r\n");
  EXPECT_NE(refusal(crlf({"BEGIN:VCALENDAR", "VERSION:2.0", "END:VCALENDAR"}))
                .find("line 1: a vCard starts with BEGIN:VCARD"),
            std::string::npos);
  refusal(crlf({"BEGIN:VCARD", "VERSION:3.0", "FN:x", "BEGIN:VEVENT", "END:VEVENT", "END:VCARD"}));
  refusal(crlf({"VERSION:3.0", "BEGIN:VCARD", "FN:x", "END:VCARD"}));
  refusal(card_with("") + "NOTE:trailing\r\n");
  refusal("BEGIN:VCARD\0\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n"s);
  refusal(" BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n");
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  refusal(binary);
}

TEST(Vcard, RequiresVersionAndFormattedName) {
  EXPECT_NE(refusal("BEGIN:VCARD\r\nFN:Jo\r\nEND:VCARD\r\n").find("no VERSION"), std::string::npos);
  EXPECT_NE(refusal("BEGIN:VCARD\r\nVERSION:4.0\r\nN:Doe;Jo\r\nEND:VCARD\r\n").find("no FN"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("VERSION:4.0\r\n")).find("a second VERSION"), std::string::npos);
  EXPECT_NE(refusal("BEGIN:VCARD\r\nVERSION:5.0\r\nFN:Jo\r\nEND:VCARD\r\n")
                .find("vCard 3.0 or 4.0 expected"),
            std::string::npos);
  // An empty FN is an FN; VERSION may come late (older 3.0 writers) and be padded.
  EXPECT_EQ(parsed("BEGIN:VCARD\r\nFN:\r\nVERSION: 3.0 \r\nEND:VCARD\r\n").version, "3.0");
}

TEST(Vcard, AcceptsVcard3WithoutNOrUid) {
  const Card card = parsed(card_with(""));
  EXPECT_TRUE(card.names.empty());
  EXPECT_EQ(card.uid, "");
}

TEST(Vcard, RefusesASecondUid) {
  EXPECT_EQ(parsed(card_with("UID:a\r\n")).uid, "a");
  EXPECT_NE(refusal(card_with("UID:a\r\nUID:b\r\n")).find("a second UID"), std::string::npos);
}

TEST(Vcard, RefusesVcard21AndQuotedPrintable) {
  EXPECT_NE(refusal("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jo\r\nEND:VCARD\r\n")
                .find("vCard 2.1 is not supported"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("NOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9\r\n"))
                .find("QUOTED-PRINTABLE is vCard 2.1's and not supported"),
            std::string::npos);
  refusal(card_with("NOTE;CHARSET=UTF-8;QUOTED-PRINTABLE:caf=C3=A9\r\n"));
  // vCard 3.0's base64 stays.
  parsed(card_with("PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo=\r\n"));
}

TEST(Vcard, IsUtf8Only) {
  parsed(card_with("NOTE;CHARSET=utf-8:café\r\n"));
  EXPECT_NE(refusal(card_with("NOTE;CHARSET=ISO-8859-1:caf\xE9\r\n")).find("UTF-8"),
            std::string::npos);
  EXPECT_NE(refusal(card_with("NOTE:caf\xE9\r\n")).find("line 4: not UTF-8 (RFC 6350 §3.1)"),
            std::string::npos);
  refusal(card_with("NOTE:\xC0\xAF\r\n"));      // overlong
  refusal(card_with("NOTE:\xED\xA0\x80\r\n"));  // a surrogate
  refusal(card_with("NOTE:caf\xC3\r\n \r\n"));  // a sequence cut, the fold empty
  refusal(card_with("NOTE:a\rb\r\n"));          // a CR alone
  refusal(card_with(std::string("NOTE:a\0b\r\n", 10)));
  refusal(card_with("NOTE:a\x7F\r\n"));
  parsed(card_with("NOTE:tab\there\r\n"));
}

const Card& sample() {
  static const Card card = parsed(crlf({
      "BEGIN:VCARD",
      "VERSION:3.0",
      "FN:Doe\\, Jane",
      "N:Doe;Jane;;;",
      "item1.EMAIL;type=INTERNET;type=WORK:Jane@Work.example",
      "EMAIL;TYPE=\"home,pref\":jane@home.example",
      "TEL;TYPE=cell:+1 555 0100",
      "NOTE:Café au lait",
      "END:VCARD",
  }));
  return card;
}

TEST(Vcard, TextMatchFollowsTheMatchType) {
  const Card& card = sample();
  EXPECT_TRUE(text_match(card, "FN", "doe, jane", MatchType::Equals, false));  // unescaped
  EXPECT_FALSE(text_match(card, "FN", "doe", MatchType::Equals, false));
  EXPECT_TRUE(text_match(card, "fn", "E, J", MatchType::Contains, false));
  EXPECT_TRUE(text_match(card, "EMAIL", "JANE@", MatchType::StartsWith, false));
  EXPECT_TRUE(text_match(card, "EMAIL", "HOME.EXAMPLE", MatchType::EndsWith, false));
  EXPECT_FALSE(text_match(card, "EMAIL", "jane", MatchType::EndsWith, false));
  EXPECT_TRUE(text_match(card, "TEL", "", MatchType::Contains, false));
  EXPECT_FALSE(text_match(card, "TEL", "+1 555 0100 0", MatchType::StartsWith, false));
  // Beyond ASCII, bytes compare as they are: "É" is not "é".
  EXPECT_FALSE(text_match(card, "NOTE", "CAFÉ", MatchType::Contains, false));
  EXPECT_TRUE(text_match(card, "NOTE", "CAFé", MatchType::Contains, false));
}

TEST(Vcard, TextMatchNegatesOverEveryInstance) {
  const Card& card = sample();
  // Neither address holds "other": the negated filter passes.
  EXPECT_TRUE(text_match(card, "EMAIL", "other", MatchType::Contains, true));
  // One address holds "home": the negated filter fails, though the other does not.
  EXPECT_FALSE(text_match(card, "EMAIL", "home", MatchType::Contains, true));
  // No such property: neither the filter nor its negation holds.
  EXPECT_FALSE(text_match(card, "ORG", "x", MatchType::Contains, false));
  EXPECT_FALSE(text_match(card, "ORG", "x", MatchType::Contains, true));
  EXPECT_TRUE(has_property(card, "email"));
  EXPECT_FALSE(has_property(card, "ORG"));
  // One instance.
  const Property& tel = *first(card, "TEL");
  EXPECT_TRUE(text_match(tel, "555", MatchType::Contains, false));
  EXPECT_FALSE(text_match(tel, "555", MatchType::Contains, true));
}

TEST(Vcard, ParamFilters) {
  const Card& card = sample();
  EXPECT_TRUE(param_text_match(card, "EMAIL", "TYPE", "work", MatchType::Equals, false));
  EXPECT_TRUE(param_text_match(card, "EMAIL", "type", "PREF", MatchType::Equals, false));
  EXPECT_FALSE(param_text_match(card, "EMAIL", "TYPE", "cell", MatchType::Equals, false));
  EXPECT_TRUE(param_text_match(card, "EMAIL", "TYPE", "cell", MatchType::Equals, true));
  // The home address's TYPE holds "home": negated, only the work address passes.
  const Property& home = card.properties[4];
  EXPECT_FALSE(param_text_match(home, "TYPE", "home", MatchType::Equals, true));
  EXPECT_TRUE(param_text_match(home, "TYPE", "home", MatchType::Equals, false));
  EXPECT_TRUE(param_text_match(card, "EMAIL", "TYPE", "home", MatchType::Equals, true));
  // Apple's type=INTERNET;type=WORK: both instances of the parameter are searched.
  const Property& work = card.properties[3];
  EXPECT_TRUE(param_text_match(work, "TYPE", "WORK", MatchType::Equals, false));
  EXPECT_FALSE(param_text_match(work, "TYPE", "internet", MatchType::Equals, true));
  // Without the parameter: no match, negated or not.
  EXPECT_FALSE(param_text_match(card, "NOTE", "LANGUAGE", "en", MatchType::Equals, false));
  EXPECT_FALSE(param_text_match(card, "NOTE", "LANGUAGE", "en", MatchType::Equals, true));
  EXPECT_TRUE(has_parameter(work, "type"));
  EXPECT_FALSE(has_parameter(work, "PREF"));
}

TEST(Vcard, TextMatchesAnEmptyNeedle) {
  EXPECT_TRUE(text_matches("", "", MatchType::Equals));
  EXPECT_FALSE(text_matches("a", "", MatchType::Equals));
  EXPECT_TRUE(text_matches("a", "", MatchType::StartsWith));
  EXPECT_TRUE(text_matches("a", "", MatchType::EndsWith));
  EXPECT_TRUE(text_matches("", "", MatchType::Contains));
  EXPECT_FALSE(text_matches("", "a", MatchType::EndsWith));
}

}  // namespace
}  // namespace rampart::contacts
