// vCards for CardDAV (RFC 6352): a pure parser that checks one address object resource
// and reads from it what the server indexes and filters on. Text in, a Card or an error
// out; no store, clock or global. The server keeps the client's text verbatim and never
// writes a vCard back from a Card: the Card is the index, not the resource.
//
// The syntax is RFC 6350 §3 (vCard 4.0) and RFC 2426 / RFC 2425 §5.8 (vCard 3.0):
// content lines `[group "."] name *(";" param) ":" value`, folded by a line end and one
// space or tab (§3.2), parameter values quoted or not and comma-separated, RFC 6868's
// caret encoding in parameter values, and the text escapes of §3.4. What it accepts
// beyond the letter of those RFCs, because clients send it:
// - a bare LF as a line end, and a bare LF before the space or tab of a fold;
// - a fold anywhere, also inside a UTF-8 sequence (RFC 6350 §3.2 warns of it): the
//   line is checked for UTF-8 after it is unfolded;
// - a UTF-8 byte order mark before BEGIN, blank lines between content lines, and a
//   missing line end after END:VCARD;
// - VERSION anywhere in the card, not only right after BEGIN (RFC 6350 §6.7.9);
// - a vCard 3.0 card without N, though RFC 2426 §3.1.2 requires it: many clients send
//   one (a company, a card with only an address); FN is required in both versions;
// - a vCard 3.0 card without UID (optional there, RFC 2426 §3.6.7): the CardDAV layer
//   then knows the card by its resource name alone;
// - vCard 2.1's bare parameters (`TEL;CELL:`, also in RFC 2426's own AGENT example),
//   read as TYPE values, and `_` in names and groups;
// - a backslash before a character other than n, N, `,`, `;` or `\` (Google writes
//   `https\://`): unescape_text drops the backslash;
// - CHARSET=UTF-8 (other charsets are refused).
// What it refuses: anything but UTF-8, control characters other than tab, vCard 2.1
// (VERSION:2.1, QUOTED-PRINTABLE), more than one vCard (RFC 6352 §5.1: one per
// resource), content after END:VCARD, a card without END, VERSION, or FN, a second UID.
//
// vCard 3.0's AGENT (RFC 2426 §3.5.4) may hold a whole vCard, escaped as text, and
// vCard 2.1 put one inline between the AGENT line and the card's END; both are checked
// like the card around them (limits, syntax, nesting) but indexed nowhere: a Card
// describes its outermost vCard only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace rampart::contacts {

// Bounds on what one card may make the parser hold or do. A card past one is refused,
// never cut.
struct Limits {
  std::size_t max_bytes = 1 << 20;    // the resource as sent
  std::size_t max_properties = 5000;  // content lines, embedded AGENT vCards' included
  std::size_t max_line = 64 << 10;    // one content line, unfolded
  std::size_t max_parameters = 64;    // parameters on one content line
  // vCards inside one another, the outermost counted: 2 lets a card hold an AGENT vCard
  // (RFC 2426 §3.5.4) and refuses an AGENT inside that one.
  std::size_t max_nesting = 2;
};

struct Property {
  std::string group;  // as sent ("item1" of Apple's item1.EMAIL); empty when none
  std::string name;   // uppercased
  // In the order sent, a name repeated as often as it is sent (Apple writes
  // type=INTERNET;type=pref). Names uppercased; values unquoted, RFC 6868-decoded and
  // split at the commas between them; a quoted TYPE value is also split at its commas
  // (TYPE="HOME,VOICE", as RFC 6350's own examples write it); a bare parameter is
  // {"TYPE", {name as sent}}.
  std::vector<std::pair<std::string, std::vector<std::string>>> parameters;
  std::string value;  // unfolded, still escaped: unescape_text reads a text value
};

struct Card {
  std::string version;  // "3.0" or "4.0"
  // The outermost card's content lines in order, VERSION included, BEGIN and END not.
  std::vector<Property> properties;
  std::string uid;                  // UID, unescaped; empty when the card has none
  std::string formatted_name;       // the first FN, unescaped
  std::vector<std::string> names;   // the first N's components, unescaped; empty without N
  std::vector<std::string> emails;  // every EMAIL, unescaped, ASCII-lowercased
  std::vector<std::string> phones;  // every TEL, unescaped, as sent ("tel:+1..." in 4.0)
  // KIND (4.0) or Apple's X-ADDRESSBOOKSERVER-KIND (3.0), lowercased: "individual",
  // "group", "org", "location" or another a client made up.
  std::string kind = "individual";
  // MEMBER (4.0) or X-ADDRESSBOOKSERVER-MEMBER (3.0) of a group, as sent (a URI such as
  // urn:uuid:..., never escaped).
  std::vector<std::string> members;
};

// Parses and checks one vCard resource. Errors: TooBig for a text past max_bytes (the
// DAV layer's CARDDAV:max-resource-size); BadInput for everything else, also the other
// limits (CARDDAV:valid-address-data, or CARDDAV:supported-address-data for vCard 2.1).
// The detail reads "line N: what is wrong (the rule)", N the physical line where the
// content line starts; it is for the log and the client's author.
Result<Card> parse_card(std::string_view text, const Limits& limits = {});

// A text value with RFC 6350 §3.4's escapes undone: \n and \N give a line feed, \, \;
// and \\ the character; a backslash before anything else is dropped (Google's `\:`), a
// backslash at the end kept. Unescaping a structured value (N, ADR) whole leaves its
// `;` separators indistinguishable from escaped ones: split it first, as Card::names is.
std::string unescape_text(std::string_view value);

// CardDAV filters (RFC 6352 §10.5). Comparison is i;unicode-casemap read loosely: ASCII
// letters compare case-insensitively and every other byte as itself, so "Ä" does not
// match "ä" (neither i;unicode-casemap's full case folding nor its normalisation is
// done). That is also what i;ascii-casemap asks, the other collation RFC 6352 §8.3
// requires. Property and parameter names compare ASCII case-insensitively; a property is
// found by its name whatever its group.
enum class MatchType { Equals, Contains, StartsWith, EndsWith };

// Whether `text` matches `needle` as RFC 6352 §10.5.4's match-type says, with the
// collation above. An empty needle is contained in, starts and ends every text, and
// equals only an empty one.
bool text_matches(std::string_view text, std::string_view needle, MatchType type);

// text-match on one property instance (§10.5.4): its unescaped value matches, or, with
// `negate` (negate-condition="yes"), does not.
bool text_match(const Property& property, std::string_view needle, MatchType type, bool negate);
// text-match under a prop-filter: some instance of the property matches, or, with
// `negate`, none does (a TEL filter negated on "555" passes a card none of whose numbers
// holds 555, not one with a second number that lacks it); false either way when the card
// has no such property (is-not-defined is !has_property).
bool text_match(const Card& card, std::string_view property_name, std::string_view needle,
                MatchType type, bool negate);
bool has_property(const Card& card, std::string_view property_name);

// param-filter (§10.5.2) on one property instance. A parameter is defined when the
// instance carries it (is-not-defined is !has_parameter); its text-match holds when one
// of its values matches, or with `negate` when none does (TYPE=home,voice negated on
// "home" fails); false without the parameter.
bool has_parameter(const Property& property, std::string_view parameter_name);
bool param_text_match(const Property& property, std::string_view parameter_name,
                      std::string_view needle, MatchType type, bool negate);
// The same under a prop-filter: some instance of the property passes.
bool param_text_match(const Card& card, std::string_view property_name,
                      std::string_view parameter_name, std::string_view needle, MatchType type,
                      bool negate);

}  // namespace rampart::contacts
