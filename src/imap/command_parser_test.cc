#include "imap/command_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart::imap {
namespace {

using namespace std::string_literals;

// Feeds the chunks in order and returns every step but NeedMore.
std::vector<Step> parse_chunks(const std::vector<std::string_view>& chunks, Limits limits = {}) {
  CommandParser parser(limits);
  std::vector<Step> steps;
  for (std::string_view chunk : chunks) {
    for (;;) {
      const std::size_t before = chunk.size();
      Step step = parser.feed(chunk);
      if (std::holds_alternative<NeedMore>(step)) {
        EXPECT_TRUE(chunk.empty());
        break;
      }
      EXPECT_LT(chunk.size(), before) << "a step without progress";
      steps.push_back(std::move(step));
    }
  }
  return steps;
}

std::vector<Step> parse(std::string_view bytes, Limits limits = {}) {
  return parse_chunks({bytes}, limits);
}

// Checks that the steps are the same for every split in two and byte by byte.
std::vector<Step> parse_every_split(std::string_view bytes, Limits limits = {}) {
  const std::vector<Step> whole = parse(bytes, limits);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    EXPECT_EQ(parse_chunks({bytes.substr(0, cut), bytes.substr(cut)}, limits), whole)
        << "split at " << cut;
  }
  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
  EXPECT_EQ(parse_chunks(bytewise, limits), whole) << "byte by byte";
  return whole;
}

std::string render(const Token& token) {
  switch (token.kind) {
    case Token::Kind::Atom:
      return token.text;
    case Token::Kind::String: {
      if (token.literal) {
        return (token.binary ? "~{" : "{") + std::to_string(token.text.size()) + "}" + token.text;
      }
      std::string out = "\"";
      for (char c : token.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case Token::Kind::List: {
      std::string out = "(";
      for (const Token& child : token.children) {
        if (out.size() > 1) out += ' ';
        out += render(child);
      }
      return out + ")";
    }
  }
  return {};
}

// "tag [UID ]NAME arguments..." in a canonical form.
std::string render(const Step& step) {
  if (const auto* bad = std::get_if<BadCommand>(&step)) {
    return bad->tag + " BAD" + (bad->code.empty() ? "" : " [" + bad->code + "]") +
           (bad->fatal ? " fatal" : "");
  }
  if (const auto* literal = std::get_if<NeedLiteral>(&step)) {
    return "literal " + std::to_string(literal->size) + (literal->synchronizing ? "" : "+");
  }
  if (std::holds_alternative<NeedMore>(step)) return "more";
  const auto& command = std::get<Command>(step);
  std::string out = command.tag + (command.uid ? " UID " : " ") + command.name;
  for (const Token& token : command.arguments) out += " " + render(token);
  return out;
}

std::vector<std::string> render(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const Step& step : steps) out.push_back(render(step));
  return out;
}

using Lines = std::vector<std::string>;

TEST(CommandParser, GivesTheSameCommandWhereverTheInputIsSplit) {
  const std::string bytes = "a1 LOGIN {4+}\r\nuser {6+}\r\nsecret\r\n";
  const auto steps = parse_every_split(bytes);
  EXPECT_EQ(render(steps), (Lines{"literal 4+", "literal 6+", "a1 LOGIN {4}user {6}secret"}));
  const auto& login = std::get<Command>(steps.back());
  EXPECT_EQ(login.arguments[0].astring(), "user");
  EXPECT_EQ(login.arguments[1].astring(), "secret");
}

TEST(CommandParser, SynchronizingLiteralsAskForAContinuation) {
  const auto steps = parse_every_split("a2 LOGIN {4}\r\nuser \"pass word\"\r\n");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(std::get<NeedLiteral>(steps[0]), (NeedLiteral{4, true}));
  EXPECT_EQ(render(steps[1]), "a2 LOGIN {4}user \"pass word\"");
}

TEST(CommandParser, ParsesEveryTokenKind) {
  const std::string bytes =
      "t1 x-Test atom \\Seen NIL \"q \\\"uo\\\\ted\" \"\" \"Jöns\" {3}\r\nabc ~{3+}\r\n\0\1\2"
      " {0}\r\n (a (b (c)) () {2+}\r\n\r\n) $ 1:* ]x~y\r\n"s;
  const auto steps = parse_every_split(bytes);
  EXPECT_EQ(render(steps), (Lines{"literal 3", "literal 3+", "literal 0", "literal 2+",
                                  "t1 X-TEST atom \\Seen NIL \"q \\\"uo\\\\ted\" \"\" \"Jöns\" "
                                  "{3}abc ~{3}\0\1\2 {0} (a (b (c)) () {2}\r\n) $ 1:* ]x~y"s}));
  const auto& args = std::get<Command>(steps.back()).arguments;
  ASSERT_EQ(args.size(), 13u);
  EXPECT_EQ(args[0].kind, Token::Kind::Atom);
  EXPECT_TRUE(args[2].is_nil());
  EXPECT_EQ(args[3].kind, Token::Kind::String);
  EXPECT_EQ(args[3].text, "q \"uo\\ted");
  EXPECT_FALSE(args[3].literal);
  EXPECT_TRUE(args[6].literal);
  EXPECT_FALSE(args[6].binary);
  EXPECT_TRUE(args[7].binary);
  EXPECT_EQ(args[7].text, "\0\1\2"s);
  EXPECT_EQ(args[9].kind, Token::Kind::List);
  EXPECT_EQ(args[9].children[1].children[1].children[0].text, "c");
}

TEST(CommandParser, TokenHelpers) {
  const auto steps = parse(
      "a X nil Nil \"NIL\" INBOX \"a b\" {1+}\r\nz ~{1+}\r\nz \\Seen a%b 42 "
      "18446744073709551616 007 BODY[]\r\n");
  const auto& args = std::get<Command>(steps.back()).arguments;
  ASSERT_EQ(args.size(), 13u);
  EXPECT_TRUE(args[0].is_nil());
  EXPECT_TRUE(args[1].is_nil());
  EXPECT_FALSE(args[2].is_nil());
  EXPECT_TRUE(args[3].is("inbox"));
  EXPECT_EQ(args[2].astring(), "NIL");
  EXPECT_EQ(args[3].astring(), "INBOX");
  EXPECT_EQ(args[4].astring(), "a b");
  EXPECT_EQ(args[5].astring(), "z");
  EXPECT_EQ(args[6].astring(), std::nullopt);  // literal8 is not an astring
  EXPECT_EQ(args[7].astring(), std::nullopt);
  EXPECT_EQ(args[8].astring(), std::nullopt);
  EXPECT_EQ(args[9].number(), 42u);
  EXPECT_EQ(args[10].number(), std::nullopt);
  EXPECT_EQ(args[11].number(), 7u);
  EXPECT_EQ(args[12].astring(), "BODY[]");
  EXPECT_EQ(args[4].number(), std::nullopt);
}

TEST(CommandParser, UidFetchWithBodySections) {
  const auto steps = parse_every_split(
      "A654 uid fetch 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.2048> "
      "BODY[1.2.MIME] BINARY.PEEK[1]<0.100> body[HEADER.FIELDS.NOT (\"X-A]\" Y)] MODSEQ) "
      "(CHANGEDSINCE 12345 VANISHED)\r\n");
  ASSERT_EQ(steps.size(), 1u);
  const auto& fetch = std::get<Command>(steps[0]);
  EXPECT_EQ(fetch.tag, "A654");
  EXPECT_EQ(fetch.name, "FETCH");
  EXPECT_TRUE(fetch.uid);
  ASSERT_EQ(fetch.arguments.size(), 3u);
  EXPECT_EQ(fetch.arguments[0].text, "1:*,7");
  const auto& items = fetch.arguments[1].children;
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[1].text, "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<0.2048>");
  EXPECT_EQ(items[2].text, "BODY[1.2.MIME]");
  EXPECT_EQ(items[3].text, "BINARY.PEEK[1]<0.100>");
  EXPECT_EQ(items[4].text, "body[HEADER.FIELDS.NOT (\"X-A]\" Y)]");
  EXPECT_EQ(render(fetch.arguments[2]), "(CHANGEDSINCE 12345 VANISHED)");
}

TEST(CommandParser, BracketsOutsideAFetchSectionAreAtomChars) {
  // RFC 3501 section 9: "[" is an ATOM-CHAR and "]" an ASTRING-CHAR; only a fetch
  // attribute's section runs to its "]".
  const auto steps = parse_every_split(
      "a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}~\r\n"
      "b CREATE a]b[c\r\n"
      "c STORE 1 +FLAGS (NIL [x)\r\n");
  EXPECT_EQ(render(steps), (Lines{"a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}~", "b CREATE a]b[c",
                                  "c STORE 1 +FLAGS (NIL [x)"}));
  const auto& select = std::get<Command>(steps[0]);
  EXPECT_EQ(select.arguments[0].astring(), "!#$&'+,-.0123456789:;<=>?@^_`|[}~");
}

TEST(CommandParser, SearchWithNestedListsAndCharset) {
  const auto steps = parse_every_split(
      "s1 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM \"Jöns\" SUBJECT {6+}\r\n"
      "Björk) NOT (SINCE 1-Feb-2024 (UNSEEN (DELETED))) TEXT \"a \\\"b\\\"\"\r\n");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(render(steps[1]),
            "s1 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM \"Jöns\" SUBJECT {6}Björk) NOT "
            "(SINCE 1-Feb-2024 (UNSEEN (DELETED))) TEXT \"a \\\"b\\\"\"");
}

TEST(CommandParser, AppendWithAMegabyteNonSynchronizingLiteral) {
  std::string message(1 << 20, 'm');
  for (std::size_t i = 0; i < message.size(); i += 78) message[i] = '\n';
  const std::string bytes = "a APPEND INBOX (\\Seen) {1048576+}\r\n" + message + "\r\nb NOOP\r\n";
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < bytes.size(); i += 65536) {
    chunks.push_back(std::string_view(bytes).substr(i, 65536));
  }
  for (const auto& steps : {parse(bytes), parse_chunks(chunks)}) {
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(std::get<NeedLiteral>(steps[0]), (NeedLiteral{1 << 20, false}));
    const auto& append = std::get<Command>(steps[1]);
    EXPECT_EQ(append.name, "APPEND");
    ASSERT_EQ(append.arguments.size(), 3u);
    EXPECT_EQ(append.arguments[2].text, message);
    EXPECT_EQ(render(steps[2]), "b NOOP");
  }
}

TEST(CommandParser, PipelinedCommandsComeOneAtATime) {
  CommandParser parser;
  std::string_view input = "a NOOP\r\nb CAPABILITY\n\r\n\nc SELECT INBOX (CONDSTORE)\r\nd";
  EXPECT_EQ(render(parser.feed(input)), "a NOOP");
  EXPECT_EQ(input, "b CAPABILITY\n\r\n\nc SELECT INBOX (CONDSTORE)\r\nd");
  EXPECT_EQ(render(parser.feed(input)), "b CAPABILITY");
  EXPECT_EQ(render(parser.feed(input)), "c SELECT INBOX (CONDSTORE)");  // empty lines ignored
  EXPECT_EQ(render(parser.feed(input)), "more");
  EXPECT_TRUE(input.empty());
  input = " LOGOUT\r\n";
  EXPECT_EQ(render(parser.feed(input)), "d LOGOUT");
}

TEST(CommandParser, RefusesBadTagsAndNames) {
  EXPECT_EQ(render(parse("+ NOOP\r\n")), Lines{"* BAD"});
  EXPECT_EQ(render(parse(" NOOP\r\n")), Lines{"* BAD"});
  EXPECT_EQ(render(parse("a(b NOOP\r\n")), Lines{"* BAD"});
  EXPECT_EQ(render(parse("a*b NOOP\r\n")), Lines{"* BAD"});
  EXPECT_EQ(render(parse("tåg NOOP\r\n")), Lines{"* BAD"});
  EXPECT_EQ(render(parse("a1\r\n")), Lines{"a1 BAD"});
  EXPECT_EQ(render(parse("a1 \r\n")), Lines{"a1 BAD"});
  EXPECT_EQ(render(parse("a1 UID\r\n")), Lines{"a1 BAD"});
  EXPECT_EQ(render(parse("a1 FETCH(1)\r\n")), Lines{"a1 BAD"});
  EXPECT_EQ(render(parse("a1 BODY[x] 1\r\n")), Lines{"a1 BAD"});
  EXPECT_EQ(render(parse("a]1 NOOP\r\n")), Lines{"a]1 NOOP"});
}

TEST(CommandParser, SyntaxErrorsAreOneBadThenParsingGoesOn) {
  for (const char* bad : {
           "a1 X \"unterminated\r\n",
           "a1 X \"bad \\escape\"\r\n",
           "a1 X \"cr \r inside\"\r\n",
           "a1 X a)\r\n",
           "a1 X (a (b)\r\n",
           "a1 X BODY[HEADER\r\n",
           "a1 X \"a\"\"b\"\r\n",
           "a1 X (a)b\r\n",
           "a1 X {5}x\r\n",
           "a1 X {}\r\n",
           "a1 X {x}\r\n",
           "a1 X {5\r\n",
           "a1 X a\tb\r\n",
           "a1 X a\x7f\r\n",
       }) {
    const std::string bytes = bad + "b NOOP\r\n"s;
    EXPECT_EQ(render(parse_every_split(bytes)), (Lines{"a1 BAD", "b NOOP"})) << bad;
  }
}

TEST(CommandParser, SkipsTheNonSynchronizingLiteralsOfABadCommand) {
  // The client sends announced LITERAL+ bytes without waiting: they must not be read as
  // commands. "b NOOP" inside the literal must not run.
  EXPECT_EQ(render(parse_every_split("a1 X ) {8+}\r\nb NOOP\r\n {2+}\r\n\r\n\r\nc NOOP\r\n")),
            (Lines{"a1 BAD", "c NOOP"}));
  // A synchronizing literal on the bad line will not come: we sent no continuation.
  EXPECT_EQ(render(parse_every_split("a1 X ) {8}\r\nb NOOP\r\n")), (Lines{"a1 BAD", "b NOOP"}));
  // A later line of the command goes bad.
  EXPECT_EQ(render(parse_every_split("a1 X {1+}\r\nz ) {3+}\r\nb N {2}\r\nc NOOP\r\n")),
            (Lines{"literal 1+", "a1 BAD", "c NOOP"}));
  EXPECT_EQ(render(parse_every_split("* X {3+}\r\nabc\r\nc NOOP\r\n")), (Lines{"* BAD", "c NOOP"}));
}

TEST(CommandParser, NulIsRefusedOutsideLiteral8) {
  EXPECT_EQ(render(parse_every_split("a1 X a\0b\r\nb NOOP\r\n"s)), (Lines{"a1 BAD", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split("a1 X {3+}\r\na\0b {1+}\r\nc\r\nb NOOP\r\n"s)),
            (Lines{"literal 3+", "a1 BAD", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split("a1 X ~{3+}\r\na\0b\r\nb NOOP\r\n"s)),
            (Lines{"literal 3+", "a1 X ~{3}a\0b"s, "b NOOP"}));
}

TEST(CommandParser, LiteralsOverTheLimit) {
  const Limits limits{.max_literal = 100};
  // Synchronizing: the client waits for "+" and will not send it.
  EXPECT_EQ(render(parse_every_split("a1 APPEND INBOX {101}\r\nb NOOP\r\n", limits)),
            (Lines{"a1 BAD [TOOBIG]", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split("a1 APPEND INBOX {100}\r\n", limits)), (Lines{"literal 100"}));
  EXPECT_EQ(render(parse("a1 X {99999999999999999999999}\r\nb NOOP\r\n")),
            (Lines{"a1 BAD [TOOBIG]", "b NOOP"}));
  // Non-synchronizing: the bytes are on their way; the connection must close.
  EXPECT_EQ(render(parse_every_split("a1 APPEND INBOX {101+}\r\nb NOOP\r\n", limits)),
            (Lines{"a1 BAD [TOOBIG] fatal"}));
  EXPECT_EQ(render(parse_every_split("a1 X ) {101+}\r\nb NOOP\r\n", limits)),
            (Lines{"a1 BAD [TOOBIG] fatal"}));
  EXPECT_EQ(render(parse("a1 X {4294967296+}\r\n")), (Lines{"a1 BAD [TOOBIG] fatal"}));
}

TEST(CommandParser, LiteralMinusAllows4096NonSynchronizingBytes) {
  const Limits limits{.literal_plus = false};
  EXPECT_EQ(render(parse("a X {4096+}\r\n" + std::string(4096, 'x') + "\r\n", limits)),
            (Lines{"literal 4096+", "a X {4096}" + std::string(4096, 'x')}));
  EXPECT_EQ(render(parse("a X {4097+}\r\n", limits)), (Lines{"a BAD [TOOBIG] fatal"}));
  EXPECT_EQ(render(parse("a X {4097}\r\n", limits)), (Lines{"literal 4097"}));
}

TEST(CommandParser, AfterAFatalErrorEverythingIsDiscardedUntilReset) {
  CommandParser parser({.max_literal = 10});
  std::string_view input = "a X {11+}\r\nb NOOP\r\n";
  EXPECT_EQ(render(parser.feed(input)), "a BAD [TOOBIG] fatal");
  EXPECT_EQ(render(parser.feed(input)), "more");
  EXPECT_TRUE(input.empty());
  parser.reset();
  input = "c NOOP\r\n";
  EXPECT_EQ(render(parser.feed(input)), "c NOOP");
}

TEST(CommandParser, OverlongLines) {
  const Limits limits{.max_line = 20};
  const std::string exact = "a X " + std::string(16, 'x');
  EXPECT_EQ(render(parse_every_split(exact + "\r\n", limits)), (Lines{exact}));
  EXPECT_EQ(render(parse_every_split(exact + "\n", limits)), (Lines{exact}));
  EXPECT_EQ(render(parse_every_split(exact + "y\r\nb NOOP\r\n", limits)),
            (Lines{"a BAD [TOOBIG]", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split(std::string(100, 'y') + "\r\nb NOOP\r\n", limits)),
            (Lines{"* BAD [TOOBIG]", "b NOOP"}));
  // The overlong line announced a literal: skip it and resynchronize.
  EXPECT_EQ(render(parse_every_split("a X " + std::string(50, 'x') +
                                         " {8+}\r\nb NOOP\r\n\r\n"
                                         "c NOOP\r\n",
                                     limits)),
            (Lines{"a BAD [TOOBIG]", "c NOOP"}));
  EXPECT_EQ(render(parse_every_split("a X {3+}\r\nabc " + std::string(50, 'x') + "\r\nc NOOP\r\n",
                                     limits)),
            (Lines{"literal 3+", "a BAD [TOOBIG]", "c NOOP"}));
  // ... unless it is too big to skip.
  EXPECT_EQ(render(parse_every_split(
                "a X " + std::string(50, 'x') + " {99999999999+}\r\nb NOOP\r\n", limits)),
            (Lines{"a BAD [TOOBIG] fatal"}));
}

TEST(CommandParser, NestingLimit) {
  const Limits limits{.max_nesting = 3};
  EXPECT_EQ(render(parse_every_split("a X (((1)))\r\n", limits)), (Lines{"a X (((1)))"}));
  EXPECT_EQ(render(parse_every_split("a X ((((1))))\r\nb NOOP\r\n", limits)),
            (Lines{"a BAD [LIMIT]", "b NOOP"}));
  EXPECT_EQ(render(parse(std::string(100000, '(') + "\r\nb NOOP\r\n")),
            (Lines{"* BAD [TOOBIG]", "b NOOP"}));
  EXPECT_EQ(render(parse("a X " + std::string(10000, '(') + "\r\nb NOOP\r\n")),
            (Lines{"a BAD [LIMIT]", "b NOOP"}));
}

TEST(CommandParser, ArgumentAndCommandLimits) {
  EXPECT_EQ(render(parse("a X 1 2 (3)\r\nb X 1 2 (3 4)\r\n", {.max_arguments = 4})),
            (Lines{"a X 1 2 (3)", "b BAD [LIMIT]"}));
  EXPECT_EQ(render(parse("a X {1+}\r\n1 {1+}\r\n2\r\n", {.max_arguments = 1})),
            (Lines{"literal 1+", "a BAD [LIMIT]"}));
  const Limits limits{.max_command = 40};
  EXPECT_EQ(render(parse_every_split("a X {10}\r\n0123456789 {10+}\r\n0123456789 {10}\r\n"
                                     "b NOOP\r\n",
                                     limits)),
            (Lines{"literal 10", "literal 10+", "a BAD [TOOBIG]", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split("a X {10}\r\n0123456789 {20+}\r\n0123456789" +
                                         std::string(10, 'x') + "\r\nb NOOP\r\n",
                                     limits)),
            (Lines{"literal 10", "a BAD [TOOBIG]", "b NOOP"}));
  EXPECT_EQ(render(parse_every_split(
                "a X {10}\r\n0123456789 " + std::string(30, 'x') + "\r\nb NOOP\r\n", limits)),
            (Lines{"literal 10", "a BAD [TOOBIG]", "b NOOP"}));
}

TEST(CommandParser, TakeLineReadsRawContinuationLines) {
  const std::string bytes = "a IDLE\r\nDONE\r\nb AUTHENTICATE PLAIN\r\nAGFAYg==\r\nc NOOP\r\n";
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    CommandParser parser;
    std::string_view first = std::string_view(bytes).substr(0, cut);
    std::string_view second = std::string_view(bytes).substr(cut);
    std::vector<std::string> seen;
    bool want_line = false;
    for (std::string_view* input : {&first, &second}) {
      while (!input->empty()) {
        if (want_line) {
          LineStep step = parser.take_line(*input);
          if (auto* line = std::get_if<std::string>(&step)) {
            seen.push_back("line " + *line);
            want_line = false;
          }
        } else {
          Step step = parser.feed(*input);
          if (auto* command = std::get_if<Command>(&step)) {
            seen.push_back(command->name);
            want_line = command->name != "NOOP";
          }
        }
      }
    }
    EXPECT_EQ(seen, (Lines{"IDLE", "line DONE", "AUTHENTICATE", "line AGFAYg==", "NOOP"}))
        << "split at " << cut;
  }
  CommandParser parser({.max_line = 8});
  std::string_view input = "0123456789\r\n01234567\r\n";
  EXPECT_EQ(std::get<BadCommand>(parser.take_line(input)).code, "TOOBIG");
  EXPECT_EQ(std::get<std::string>(parser.take_line(input)), "01234567");
}

TEST(CommandParser, ResetDropsPartialInput) {
  CommandParser parser;
  std::string_view input = "a LOGIN {5+}\r\nus";
  EXPECT_EQ(render(parser.feed(input)), "literal 5+");
  EXPECT_EQ(render(parser.feed(input)), "more");
  parser.reset();
  input = "b NOOP\r\n";
  EXPECT_EQ(render(parser.feed(input)), "b NOOP");
}

TEST(SequenceSet, Parses) {
  using Range = SequenceSet::Range;
  constexpr auto star = SequenceSet::kStar;
  EXPECT_EQ(parse_sequence_set("1")->ranges, (std::vector<Range>{{1, 1}}));
  EXPECT_EQ(parse_sequence_set("1,3:5,7:*,*,*:2,4294967295")->ranges,
            (std::vector<Range>{
                {1, 1}, {3, 5}, {7, star}, {star, star}, {star, 2}, {4294967295u, 4294967295u}}));
  EXPECT_TRUE(parse_sequence_set("$")->saved);
  EXPECT_TRUE(parse_sequence_set("$")->ranges.empty());
  for (const char* bad : {"", "0", "01", "1:", ":1", "1,", ",1", "1::2", "4294967296", "a", "1 2",
                          "$,1", "1,$", "-1", "1:0"}) {
    EXPECT_EQ(parse_sequence_set(bad), std::nullopt) << bad;
  }
}

TEST(SequenceSet, ResolvesStarAndMerges) {
  using Range = SequenceSet::Range;
  EXPECT_EQ(parse_sequence_set("9:*,2,3,1:2,20:13")->resolve(12),
            (std::vector<Range>{{1, 3}, {9, 20}}));
  EXPECT_EQ(parse_sequence_set("*")->resolve(0), (std::vector<Range>{}));
  EXPECT_EQ(parse_sequence_set("4294967295,1:*")->resolve(4294967295u),
            (std::vector<Range>{{1, 4294967295u}}));
  const auto set = *parse_sequence_set("5:3,10:*");
  EXPECT_TRUE(set.contains(4, 12));
  EXPECT_TRUE(set.contains(12, 12));
  EXPECT_TRUE(set.contains(11, 12));
  EXPECT_FALSE(set.contains(9, 12));
  EXPECT_FALSE(set.contains(0, 12));
  EXPECT_TRUE(set.contains(7, 7));  // "10:*" is "7:10" when 7 is the largest
}

}  // namespace
}  // namespace rampart::imap
