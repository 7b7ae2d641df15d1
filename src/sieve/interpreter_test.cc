// Each extension with the examples of its RFC (written from the RFCs' text, adapted
// to a message here), the implicit keep and the run-time limits.
#include "sieve/interpreter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

namespace rampart::sieve {
namespace {

// Writes `text` with CRLF line ends.
std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

const std::string kMessage = crlf(
    "Received: from a.example by b.example; Tue, 1 Apr 1997 09:06:31 -0800\n"
    "Received: from c.example by a.example; Tue, 1 Apr 1997 09:05:00 -0800\n"
    "Date: Tue, 1 Apr 1997 09:06:31 -0800 (PST)\n"
    "From: coyote@desert.example.org\n"
    "To: roadrunner@acme.example.com, ken+sieve@example.org\n"
    "Cc: tjs@example.edu\n"
    "Subject: [acme-users] [fwd] version 1.0 is out\n"
    "List-Id: coyote-lovers <coyote@example.com>\n"
    "Message-ID: <1234@desert.example.org>\n"
    "X-Priority: 5\n"
    "\n"
    "I've got some great birdseed over here at my place.\n"
    "Want to buy it?\n");

struct Runner {
  Input input{.message = kMessage,
              .envelope_from = "coyote@desert.example.org",
              .envelope_to = "ken+mta-filters@example.org",
              .now = 1183204800,  // 2007-06-30T12:00:00Z
              .zone_minutes = 0};
  Callbacks callbacks;
  RunLimits limits;
  std::string message = kMessage;

  Outcome run(std::string_view text) {
    auto script = parse_script(text);
    EXPECT_TRUE(script) << script.error().detail;
    if (!script) return {};
    input.message = message;
    return run_script(*script, input, callbacks, limits);
  }
};

std::vector<std::string> describe(const Outcome& outcome) {
  std::vector<std::string> out;
  for (const Action& action : outcome.actions) {
    std::string text;
    switch (action.kind) {
      case Action::Kind::Keep:
        text = "keep";
        break;
      case Action::Kind::Fileinto:
        text = "fileinto " + action.mailbox;
        break;
      case Action::Kind::Redirect:
        text = "redirect " + action.address;
        break;
      case Action::Kind::Reject:
        text = "reject " + action.reason;
        break;
      case Action::Kind::Ereject:
        text = "ereject " + action.reason;
        break;
      case Action::Kind::Discard:
        text = "discard";
        break;
      case Action::Kind::Vacation:
        text = "vacation";
        break;
    }
    for (const std::string& flag : action.flags) text += " " + flag;
    out.push_back(text);
  }
  return out;
}

using Actions = std::vector<std::string>;

TEST(SieveRun, AnEmptyScriptKeeps) {
  Runner runner;
  const Outcome outcome = runner.run("");
  EXPECT_EQ(describe(outcome), Actions{"keep"});
  EXPECT_TRUE(outcome.implicit_keep);
  EXPECT_FALSE(outcome.error);
}

TEST(SieveRun, DiscardFileintoAndRedirectCancelTheImplicitKeep) {
  Runner runner;
  EXPECT_EQ(describe(runner.run("discard;")), Actions{});
  EXPECT_EQ(describe(runner.run("require \"fileinto\"; fileinto \"a\"; fileinto \"a\";")),
            Actions{"fileinto a"});
  EXPECT_EQ(describe(runner.run("redirect \"x@example.net\"; redirect \"X@example.net\";")),
            Actions{"redirect x@example.net"});
  // RFC 5228 section 4.2 and 4.3: keep after discard keeps.
  EXPECT_EQ(describe(runner.run("discard; keep;")), Actions{"keep"});
  // RFC 3894: :copy leaves the implicit keep in place.
  EXPECT_EQ(describe(runner.run("require [\"copy\", \"fileinto\"];"
                                "fileinto :copy \"a\"; redirect :copy \"b@example.net\";")),
            (Actions{"fileinto a", "redirect b@example.net", "keep"}));
}

TEST(SieveRun, StopEndsTheScript) {
  Runner runner;
  EXPECT_EQ(describe(runner.run("require \"fileinto\"; fileinto \"a\"; stop; fileinto \"b\";")),
            Actions{"fileinto a"});
}

// RFC 5228 section 9 (the example script, shortened to what this message exercises).
TEST(SieveRun, Rfc5228Example) {
  Runner runner;
  const std::string script = R"(
    require "fileinto";
    if header :is "Sender" "owner-ietf-mtgs@ietf.org" {
      fileinto "INBOX.meetings";
    } elsif address :DOMAIN :is ["From", "To"] "example.com" {
      keep;
    } elsif anyof (not address :all :contains ["To", "Cc", "Bcc"] "me@example.com",
                   header :matches "subject" ["*make*money*fast*", "*university*dipl*mas*"]) {
      fileinto "spam";
    } else {
      fileinto "personal";
    })";
  EXPECT_EQ(describe(runner.run(script)), Actions{"fileinto spam"});
  runner.message = crlf("From: a@example.com\nTo: me@example.com\nSubject: hi\n\nbody\n");
  EXPECT_EQ(describe(runner.run(script)), Actions{"keep"});
  runner.message = crlf("From: a@b.example\nTo: me@example.com.au\nSubject: hi\n\nbody\n");
  EXPECT_EQ(describe(runner.run(script)), Actions{"fileinto personal"});
}

TEST(SieveRun, ComparatorsAndMatchTypes) {
  Runner runner;
  const auto holds = [&](std::string_view test) {
    const std::string script =
        "require [\"fileinto\", \"envelope\", \"comparator-i;ascii-numeric\"]; if " +
        std::string(test) + " { fileinto \"yes\"; }";
    return describe(runner.run(script)) == Actions{"fileinto yes"};
  };
  EXPECT_TRUE(holds("header :contains \"subject\" \"VERSION\""));
  EXPECT_FALSE(holds("header :contains :comparator \"i;octet\" \"subject\" \"VERSION\""));
  EXPECT_TRUE(holds("header :is \"x-priority\" \"5\""));
  EXPECT_FALSE(holds("header :is \"subject\" \"[acme-users]\""));
  EXPECT_TRUE(holds("header :matches \"subject\" \"[acme-users]*\""));
  EXPECT_TRUE(holds("header :matches \"x-priority\" \"?\""));
  EXPECT_FALSE(holds("header :matches \"x-priority\" \"??\""));
  EXPECT_TRUE(holds("header :matches \"subject\" \"*1.0 is ?ut\""));
  EXPECT_FALSE(holds("header :matches \"subject\" \"*1\\\\?0*\""));  // "\?" is a literal "?"
  EXPECT_TRUE(holds("header :is :comparator \"i;ascii-numeric\" \"x-priority\" \"05\""));
  EXPECT_TRUE(holds("address :localpart :is \"from\" \"COYOTE\""));
  EXPECT_TRUE(holds("address :domain :is \"to\" \"example.org\""));
  EXPECT_TRUE(holds("exists [\"from\", \"date\"]"));
  EXPECT_FALSE(holds("exists [\"from\", \"x-nonesuch\"]"));
  EXPECT_TRUE(holds("size :over 100"));
  EXPECT_FALSE(holds("size :under 100"));
  EXPECT_TRUE(holds("envelope :all :is \"from\" \"coyote@desert.example.org\""));
}

// RFC 5229 sections 3 and 4.
TEST(SieveRun, VariablesExpandAndModify) {
  Runner runner;
  const Outcome outcome = runner.run(R"(
    require ["fileinto", "variables"];
    set "honorific" "Mr";
    set "last_name" "Coyote";
    set "greeting" "Dear ${HONORIFIC} ${last_name}, ${unknown}${bad ref";
    set :upperfirst "name" "wile";
    set :length "length" "${greeting}";
    set :quotewildcard "quoted" "a*b?";
    set :upper :lowerfirst "mixed" "hello";
    fileinto "${greeting}|${name}|${length}|${quoted}|${mixed}";
  )");
  EXPECT_EQ(describe(outcome),
            Actions{"fileinto Dear Mr Coyote, ${bad ref|Wile|25|a\\*b\\?|hELLO"});
}

TEST(SieveRun, MatchVariablesComeFromTheLastMatch) {
  Runner runner;
  EXPECT_EQ(describe(runner.run(R"(
    require ["fileinto", "variables"];
    if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.${2}"; stop; }
  )")),
            Actions{"fileinto INBOX.lists.coyote"});
  // The first star takes as little as it can.
  EXPECT_EQ(describe(runner.run(R"(
    require ["fileinto", "variables"];
    if header :matches "Subject" "[*] *" { fileinto "${1}|${2}|${0}"; }
  )")),
            Actions{"fileinto acme-users|[fwd] version 1.0 is out|"
                    "[acme-users] [fwd] version 1.0 is out"});
  EXPECT_EQ(describe(runner.run(R"(
    require ["fileinto", "variables"];
    if string :is "${1}" "" { set "x" "unset"; }
    if header :matches "X-Priority" "?" { fileinto "${x}-${1}"; }
  )")),
            Actions{"fileinto unset-5"});
}

TEST(SieveRun, StringTestCountsNonEmptyStrings) {
  Runner runner;
  EXPECT_EQ(describe(runner.run(R"(
    require ["variables", "relational", "fileinto"];
    set "a" "x";
    if string :count "eq" ["${a}", "", "${b}", "y"] "2" { fileinto "two"; }
  )")),
            Actions{"fileinto two"});
}

// RFC 5231 section 6's examples, adapted.
TEST(SieveRun, RelationalCountAndValue) {
  Runner runner;
  const std::string prefix =
      "require [\"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"]; ";
  EXPECT_EQ(describe(runner.run(prefix + "if address :count \"ge\" :comparator \"i;ascii-numeric\" "
                                         "[\"to\", \"cc\"] [\"3\"] { fileinto \"many\"; }")),
            Actions{"fileinto many"});
  EXPECT_EQ(describe(runner.run(prefix + "if address :count \"ge\" :comparator \"i;ascii-numeric\" "
                                         "[\"to\", \"cc\"] [\"4\"] { fileinto \"many\"; }")),
            Actions{"keep"});
  EXPECT_EQ(describe(runner.run(prefix + "if header :value \"gt\" :comparator \"i;ascii-numeric\" "
                                         "[\"x-priority\"] [\"3\"] { fileinto \"low\"; }")),
            Actions{"fileinto low"});
  EXPECT_EQ(describe(runner.run(prefix + "if header :value \"lt\" :comparator \"i;ascii-numeric\" "
                                         "[\"x-priority\"] [\"10\"] { fileinto \"numeric\"; }")),
            Actions{"fileinto numeric"});
  // Under i;ascii-casemap "5" sorts after "10".
  EXPECT_EQ(describe(runner.run(prefix + "if header :value \"lt\" [\"x-priority\"] [\"10\"] "
                                         "{ fileinto \"text\"; }")),
            Actions{"keep"});
}

// RFC 5233 section 5.
TEST(SieveRun, SubaddressUserAndDetail) {
  Runner runner;
  const std::string script = R"(
    require ["envelope", "subaddress", "fileinto"];
    if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }
    if address :user "to" "ken" { fileinto "ken"; }
    if address :detail "to" "" { fileinto "never"; }
  )";
  EXPECT_EQ(describe(runner.run(script)),
            (Actions{"fileinto inbox.ietf-mta-filters", "fileinto ken"}));
}

// RFC 5230 section 4's example; the reply goes out only to mail addressed to the user.
TEST(SieveRun, VacationReturnsItsParameters) {
  Runner runner;
  const std::string script = R"(
    require "vacation";
    vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"]
      :subject "Away" :handle "h1"
      "I'm away until October 19.  If it's an emergency, call 911, I guess." ;
  )";
  Outcome outcome = runner.run(script);
  ASSERT_EQ(outcome.actions.size(), 2u);
  const Action& vacation = outcome.actions[0];
  EXPECT_EQ(vacation.kind, Action::Kind::Vacation);
  EXPECT_EQ(vacation.days, 23u);
  EXPECT_EQ(vacation.subject, "Away");
  EXPECT_EQ(vacation.handle, "h1");
  EXPECT_EQ(vacation.addresses.size(), 2u);
  EXPECT_EQ(outcome.actions[1].kind, Action::Kind::Keep);
  // Not addressed to any of the user's addresses: no reply.
  runner.message = crlf("From: a@b.example\nTo: list@lists.example\n\nhi\n");
  EXPECT_EQ(describe(runner.run(script)), Actions{"keep"});
  runner.input.recipient_addresses = {"list@lists.example"};
  EXPECT_EQ(describe(runner.run(script)), (Actions{"vacation", "keep"}));
  // :days is bounded; two vacations are an error.
  runner.limits.max_vacation_days = 10;
  EXPECT_EQ(runner.run("require \"vacation\"; vacation :days 99 \"x\";").actions[0].days, 10u);
  Outcome twice = runner.run("require \"vacation\"; vacation \"x\"; vacation \"y\";");
  EXPECT_TRUE(twice.error);
  EXPECT_EQ(describe(twice), Actions{"keep"});
}

TEST(SieveRun, RejectConflictsWithDeliveryActions) {
  Runner runner;
  EXPECT_EQ(describe(runner.run("require \"reject\"; reject \"no thanks\";")),
            Actions{"reject no thanks"});
  EXPECT_EQ(describe(runner.run("require \"ereject\"; ereject \"no\";")), Actions{"ereject no"});
  Outcome conflict =
      runner.run("require [\"reject\", \"fileinto\"]; reject \"no\"; fileinto \"a\";");
  EXPECT_EQ(describe(conflict), Actions{"keep"});
  ASSERT_TRUE(conflict.error);
  EXPECT_NE(conflict.error->find("reject cannot be combined"), std::string::npos);
  EXPECT_TRUE(runner.run("require [\"reject\", \"ereject\"]; reject \"a\"; ereject \"b\";").error);
}

// RFC 5232 section 7's examples, adapted.
TEST(SieveRun, Imap4flags) {
  Runner runner;
  EXPECT_EQ(describe(runner.run(R"(
    require ["imap4flags", "fileinto"];
    addflag "\\Seen";
    addflag ["\\Flagged \\Seen", "$Work"];
    fileinto "INBOX.x";
    removeflag "\\seen";
    fileinto :flags "\\Deleted" "INBOX.y";
  )")),
            (Actions{"fileinto INBOX.x \\Seen \\Flagged $Work", "fileinto INBOX.y \\Deleted"}));
  // The implicit keep takes the internal variable's flags.
  EXPECT_EQ(describe(runner.run("require \"imap4flags\"; setflag \"\\\\Answered\";")),
            Actions{"keep \\Answered"});
  EXPECT_EQ(describe(runner.run(R"(
    require ["imap4flags", "variables", "fileinto", "relational"];
    setflag "MyVar" "Junk $Label";
    if hasflag :contains "MyVar" "Junk" { fileinto "junk"; }
    if hasflag :count "eq" "MyVar" "2" { fileinto "two"; }
    if hasflag "Junk" { fileinto "never"; }
  )")),
            (Actions{"fileinto junk", "fileinto two"}));
}

// RFC 5173 section 7's examples, adapted.
TEST(SieveRun, BodyRawTextAndContent) {
  Runner runner;
  runner.message = crlf(
      "From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n\n"
      "--B\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
      "MAKE MONEY=20FAST\n"
      "--B\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
      "c2VjcmV0\n--B--\n");
  const auto actions = [&](std::string_view test) {
    return describe(runner.run("require [\"body\", \"fileinto\"]; if " + std::string(test) +
                               " { fileinto \"hit\"; }"));
  };
  EXPECT_EQ(actions("body :contains \"make money fast\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("body :raw :contains \"MONEY=20FAST\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("body :raw :contains \"MONEY FAST\""), Actions{"keep"});
  EXPECT_EQ(actions("body :content \"application\" :contains \"secret\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("body :text :contains \"secret\""), Actions{"keep"});
  runner.limits.max_body_bytes = 4;  // "MAKE" is all that is searched
  EXPECT_EQ(actions("body :contains \"money\""), Actions{"keep"});
  EXPECT_EQ(actions("body :contains \"make\""), Actions{"fileinto hit"});
}

// RFC 5260 sections 4.3, 5.1, 6.
TEST(SieveRun, DateCurrentdateAndIndex) {
  Runner runner;
  const std::string prefix = "require [\"date\", \"relational\", \"fileinto\", \"index\"]; ";
  const auto actions = [&](std::string_view test) {
    return describe(runner.run(prefix + "if " + std::string(test) + " { fileinto \"hit\"; }"));
  };
  EXPECT_EQ(actions("currentdate :value \"ge\" \"date\" \"2007-06-30\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("currentdate :value \"ge\" \"date\" \"2007-07-01\""), Actions{"keep"});
  EXPECT_EQ(actions("currentdate :is \"iso8601\" \"2007-06-30T12:00:00+00:00\""),
            Actions{"fileinto hit"});
  EXPECT_EQ(actions("currentdate :zone \"+0200\" :is \"time\" \"14:00:00\""),
            Actions{"fileinto hit"});
  EXPECT_EQ(actions("currentdate :is \"weekday\" \"6\""), Actions{"fileinto hit"});  // Saturday
  EXPECT_EQ(actions("currentdate :is \"julian\" \"54281\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("date :originalzone :is \"date\" \"hour\" \"09\""), Actions{"fileinto hit"});
  EXPECT_EQ(actions("date :is \"date\" \"hour\" \"17\""), Actions{"fileinto hit"});  // in UTC
  EXPECT_EQ(
      actions("date :originalzone :is \"date\" \"std11\" \"Tue, 01 Apr 1997 09:06:31 -0800\""),
      Actions{"fileinto hit"});
  EXPECT_EQ(actions("date :originalzone :is \"date\" \"zone\" \"-0800\""), Actions{"fileinto hit"});
  // The date of the first (newest) and the last (oldest) Received field.
  EXPECT_EQ(actions("date :originalzone :index 1 :is \"received\" \"time\" \"09:06:31\""),
            Actions{"fileinto hit"});
  EXPECT_EQ(actions("date :originalzone :index 1 :last :is \"received\" \"time\" \"09:05:00\""),
            Actions{"fileinto hit"});
  EXPECT_EQ(actions("header :index 2 :contains \"received\" \"from c.example\""),
            Actions{"fileinto hit"});
  EXPECT_EQ(actions("header :index 3 :contains \"received\" \"from\""), Actions{"keep"});
}

TEST(SieveRun, RegexMatchesWithCaptures) {
  Runner runner;
  EXPECT_EQ(describe(runner.run(R"S(
    require ["regex", "variables", "fileinto"];
    if header :regex "subject" "^\\[acme(-[a-z]+)?\\] .*([0-9]\\.[0-9])" {
      fileinto "${1}|${2}";
    }
  )S")),
            Actions{"fileinto -users|1.0"});
  EXPECT_EQ(describe(runner.run(R"(
    require ["regex", "fileinto"];
    if header :regex :comparator "i;octet" "subject" "ACME" { fileinto "octet"; }
    if header :regex "subject" "ACME" { fileinto "casemap"; }
  )")),
            Actions{"fileinto casemap"});
}

// A pattern that makes a backtracking engine take exponential time, on a 1 MiB header:
// RE2 runs in linear time, and the value is cut to max_value_bytes first.
TEST(SieveRun, RegexOnAHugeHeaderIsBounded) {
  Runner runner;
  runner.message = crlf("Subject: " + std::string(1 << 20, 'a') + "\n\nbody\n");
  const auto start = std::chrono::steady_clock::now();
  const Outcome outcome = runner.run(R"(
    require ["regex", "fileinto"];
    if header :regex "subject" "^(a+)+$" { fileinto "matched"; }
    if header :regex "subject" "^(a|aa)+b" { fileinto "never"; }
  )");
  EXPECT_EQ(describe(outcome), Actions{"fileinto matched"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// RFC 5293 section 8's example, adapted, and its protected fields.
TEST(SieveRun, EditheaderAddsAndDeletesFields) {
  Runner runner;
  Outcome outcome = runner.run(R"(
    require ["editheader", "fileinto"];
    addheader "X-Sieve-Filtered" "<kim@job.example.com>";
    addheader :last "X-Last" "end";
    deleteheader "x-priority";
    deleteheader :matches "received" "*";
    deleteheader :is "cc" "nobody@example.edu";
    if exists "x-priority" { fileinto "still-there"; }
    if header :is "x-sieve-filtered" "<kim@job.example.com>" { fileinto "seen"; }
  )");
  EXPECT_EQ(describe(outcome), (Actions{"fileinto seen"}));
  ASSERT_TRUE(outcome.edited_message);
  const std::string& edited = *outcome.edited_message;
  EXPECT_TRUE(edited.starts_with("X-Sieve-Filtered: <kim@job.example.com>\r\n"));
  EXPECT_NE(edited.find("X-Last: end\r\n\r\nI've got"), std::string::npos);
  EXPECT_EQ(edited.find("X-Priority"), std::string::npos);
  EXPECT_NE(edited.find("Received: from c.example"), std::string::npos);  // protected
  EXPECT_NE(edited.find("Cc: tjs@example.edu"), std::string::npos);
  EXPECT_TRUE(edited.ends_with("Want to buy it?\r\n"));
  // A value cannot add a field of its own; a script that edits nothing leaves no copy.
  Outcome smuggled =
      runner.run("require \"editheader\"; addheader \"X-A\" \"one\r\nBcc: evil@example.net\";");
  ASSERT_TRUE(smuggled.edited_message);
  EXPECT_EQ(smuggled.edited_message->find("\r\nBcc:"), std::string::npos);
  EXPECT_FALSE(runner.run("require \"editheader\"; deleteheader \"x-none\";").edited_message);
  // deleteheader :index 1 :last removes the oldest Received only... but Received is
  // protected, so it stays: use To.
  Outcome indexed = runner.run(
      "require \"editheader\"; addheader \"To\" \"first@example.com\";"
      "deleteheader :index 1 :last \"to\";");
  ASSERT_TRUE(indexed.edited_message);
  EXPECT_NE(indexed.edited_message->find("To: first@example.com"), std::string::npos);
  EXPECT_EQ(indexed.edited_message->find("roadrunner"), std::string::npos);
}

TEST(SieveRun, IncludeRunsOtherScripts) {
  Runner runner;
  std::map<std::string, std::string> scripts = {
      {"spam", "require [\"fileinto\", \"include\"]; fileinto \"spam\"; return; fileinto \"no\";"},
      {"loop-a", "require \"include\"; include \"loop-b\";"},
      {"loop-b", "require \"include\"; include \"loop-a\";"},
      {"stopper", "stop;"},
      {"broken", "keep\n"},
  };
  std::vector<std::string> asked;
  runner.callbacks.fetch_include = [&](IncludeLocation location,
                                       std::string_view name) -> std::optional<std::string> {
    asked.push_back((location == IncludeLocation::Global ? "global:" : "") + std::string(name));
    auto found = scripts.find(std::string(name));
    if (found == scripts.end()) return std::nullopt;
    return found->second;
  };
  EXPECT_EQ(describe(runner.run("require [\"include\", \"fileinto\"]; include :global \"spam\";"
                                "fileinto \"after\";")),
            (Actions{"fileinto spam", "fileinto after"}));
  EXPECT_EQ(asked, std::vector<std::string>{"global:spam"});
  // :once includes a script once.
  asked.clear();
  runner.run("require \"include\"; include :once \"spam\"; include :once \"spam\";");
  EXPECT_EQ(asked.size(), 1u);
  // stop in an included script ends everything.
  EXPECT_EQ(describe(runner.run("require [\"include\", \"fileinto\"]; include \"stopper\";"
                                "fileinto \"no\";")),
            Actions{"keep"});
  // A loop, a missing script and a broken one are errors; :optional forgives the missing.
  Outcome loop = runner.run("require \"include\"; include \"loop-a\";");
  ASSERT_TRUE(loop.error);
  EXPECT_NE(loop.error->find("include loop"), std::string::npos);
  EXPECT_TRUE(runner.run("require \"include\"; include \"nonesuch\";").error);
  EXPECT_FALSE(runner.run("require \"include\"; include :optional \"nonesuch\";").error);
  Outcome broken = runner.run("require \"include\"; include \"broken\";");
  ASSERT_TRUE(broken.error);
  EXPECT_NE(broken.error->find("included script \"broken\": line 2"), std::string::npos);
  // Depth: a chain of distinct scripts deeper than max_include_depth.
  for (int i = 0; i < 10; ++i) {
    scripts["chain" + std::to_string(i)] =
        "require \"include\"; include \"chain" + std::to_string(i + 1) + "\";";
  }
  scripts["chain10"] = "keep;";
  Outcome deep = runner.run("require \"include\"; include \"chain0\";");
  ASSERT_TRUE(deep.error);
  EXPECT_NE(deep.error->find("nested more than 5 deep"), std::string::npos);
}

// RFC 7352 section 3's examples, adapted.
TEST(SieveRun, DuplicateAsksTheCallbackAndReportsTheId) {
  Runner runner;
  std::vector<DuplicateQuery> queries;
  runner.callbacks.duplicate_seen = [&](const DuplicateQuery& query) {
    queries.push_back(query);
    return query.id == "<1234@desert.example.org>";
  };
  Outcome outcome = runner.run(R"(
    require ["duplicate", "fileinto", "variables"];
    if duplicate { fileinto "Trash/Duplicate"; }
    if header :matches "subject" "*" { set "s" "${0}"; }
    if duplicate :uniqueid "${s}" :seconds 1800 :handle "subj" { fileinto "never"; }
  )");
  EXPECT_EQ(describe(outcome), Actions{"fileinto Trash/Duplicate"});
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_EQ(queries[1].id, "[acme-users] [fwd] version 1.0 is out");
  EXPECT_EQ(queries[1].seconds, 1800u);
  EXPECT_EQ(queries[1].handle, "subj");
  EXPECT_EQ(outcome.duplicates.size(), 2u);
  // No Message-ID: the test is false and nothing is recorded.
  runner.message = crlf("From: a@b.example\n\nhi\n");
  Outcome none = runner.run("require \"duplicate\"; if duplicate { discard; }");
  EXPECT_EQ(describe(none), Actions{"keep"});
  EXPECT_TRUE(none.duplicates.empty());
}

// RFC 5235 section 5's examples, adapted.
TEST(SieveRun, SpamtestAndVirustest) {
  Runner runner;
  const std::string script = R"(
    require ["spamtest", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];
    if virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; stop; }
    if spamtest :value "ge" :comparator "i;ascii-numeric" "6" { fileinto "spam"; }
    elsif spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "untested"; }
  )";
  EXPECT_EQ(describe(runner.run(script)), Actions{"fileinto untested"});
  runner.input.spam_score = 7;
  EXPECT_EQ(describe(runner.run(script)), Actions{"fileinto spam"});
  runner.input.spam_score = 2;
  EXPECT_EQ(describe(runner.run(script)), Actions{"keep"});
  runner.input.virus_score = 5;
  EXPECT_EQ(describe(runner.run(script)), Actions{});
  runner.input.spam_percent = 80;
  EXPECT_EQ(
      describe(runner.run("require [\"spamtestplus\", \"relational\", \"fileinto\", "
                          "\"comparator-i;ascii-numeric\"]; if spamtest :percent :value "
                          "\"gt\" :comparator \"i;ascii-numeric\" \"50\" { fileinto \"s\"; }")),
      Actions{"fileinto s"});
}

// RFC 5490 section 3.
TEST(SieveRun, MailboxexistsAndCreate) {
  Runner runner;
  runner.callbacks.mailbox_exists = [](std::string_view name) { return name == "Lists"; };
  Outcome outcome = runner.run(R"(
    require ["fileinto", "mailbox"];
    if mailboxexists "Lists" { fileinto :create "Lists/new"; }
    if mailboxexists ["Lists", "Nope"] { fileinto "never"; }
  )");
  ASSERT_EQ(describe(outcome), Actions{"fileinto Lists/new"});
  EXPECT_TRUE(outcome.actions[0].create);
}

TEST(SieveRun, RedirectsAreLimited) {
  Runner runner;
  runner.limits.max_redirects = 2;
  EXPECT_FALSE(runner.run("redirect \"a@x.example\"; redirect \"b@x.example\";").error);
  Outcome over =
      runner.run("redirect \"a@x.example\"; redirect \"b@x.example\"; redirect \"c@x.example\";");
  ASSERT_TRUE(over.error);
  EXPECT_EQ(describe(over), Actions{"keep"});
  // An address from a variable is checked when it is used.
  Outcome bad = runner.run("require \"variables\"; set \"a\" \"nobody\"; redirect \"${a}\";");
  ASSERT_TRUE(bad.error);
}

TEST(SieveRun, StepsAndHeaderReadsAreLimited) {
  Runner runner;
  runner.limits.max_steps = 5;
  Outcome steps = runner.run("if true { keep; } if true { keep; } if true { keep; }");
  ASSERT_TRUE(steps.error);
  EXPECT_EQ(*steps.error, "line 1: more than 5 steps");
  EXPECT_EQ(describe(steps), Actions{"keep"});
  runner.limits.max_steps = 10000;
  runner.limits.max_header_fields = 3;
  Outcome reads = runner.run(
      "if header :is \"received\" \"x\" { keep; }\n"
      "if header :is \"received\" \"x\" { keep; }");
  ASSERT_TRUE(reads.error);
  EXPECT_EQ(*reads.error, "line 2: more than 3 header fields read");
}

TEST(SieveRun, VariablesAreLimited) {
  Runner runner;
  runner.limits.max_variables = 2;
  runner.limits.max_variable_bytes = 4;
  Outcome outcome = runner.run(R"(
    require ["variables", "fileinto"];
    set "a" "123456"; set "b" "2"; set "a" "3${a}";
    fileinto "${a}";
  )");
  EXPECT_EQ(describe(outcome), Actions{"fileinto 3123"});
  EXPECT_TRUE(
      runner.run("require \"variables\"; set \"a\" \"1\"; set \"b\" \"2\"; set \"c\" \"3\";")
          .error);
}

}  // namespace
}  // namespace rampart::sieve
