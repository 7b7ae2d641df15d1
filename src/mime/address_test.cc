#include <gtest/gtest.h>

#include "mime/header.h"

namespace rampart::mime {
namespace {

using Kind = Address::Kind;

std::string show(const std::vector<Address>& list) {
  std::string out;
  for (const Address& a : list) {
    if (!out.empty()) out += " | ";
    if (a.kind == Kind::GroupStart) {
      out += "group(" + a.name + ")";
    } else if (a.kind == Kind::GroupEnd) {
      out += "end";
    } else {
      out += "[" + a.name + "] " + a.local + "@" + a.domain;
    }
  }
  return out;
}

TEST(AddressList, ReadsCommonForms) {
  EXPECT_EQ(show(parse_address_list("a@b.example")), "[] a@b.example");
  EXPECT_EQ(show(parse_address_list("John Doe <jdoe@machine.example>")),
            "[John Doe] jdoe@machine.example");
  EXPECT_EQ(show(parse_address_list("\"Joe Q. Public\" <john.q.public@example.com>, "
                                    "Mary Smith <mary@x.test>, jdoe@example.org")),
            "[Joe Q. Public] john.q.public@example.com | [Mary Smith] mary@x.test | [] "
            "jdoe@example.org");
  EXPECT_EQ(show(parse_address_list("Pete(A nice \\) chap) <pete(his account)@silly.test(his "
                                    "host)>")),
            "[Pete] pete@silly.test");
}

TEST(AddressList, ReadsGroups) {
  EXPECT_EQ(show(parse_address_list("A Group:Ed Jones <c@a.test>,joe@where.test,John "
                                    "<jdoe@one.test>;, x@y")),
            "group(A Group) | [Ed Jones] c@a.test | [] joe@where.test | [John] jdoe@one.test | "
            "end | [] x@y");
  EXPECT_EQ(show(parse_address_list("undisclosed-recipients:;")),
            "group(undisclosed-recipients) | end");
  EXPECT_EQ(show(parse_address_list("g: a@b")), "group(g) | [] a@b | end");  // missing ';'
}

TEST(AddressList, ReadsObsoleteForms) {
  // obs-phrase with a dot, obs-route, obs-local-part with CFWS, domain literals.
  EXPECT_EQ(show(parse_address_list("John Q. Public <@r1.test,@r2.test:jqp@host.test>")),
            "[John Q. Public] jqp@host.test");
  EXPECT_EQ(parse_address_list("<@r1.test,@[192.0.2.1]:jqp@host.test>")[0].route,
            "@r1.test,@[192.0.2.1]");
  EXPECT_EQ(show(parse_address_list("john . doe @ example . com")), "[] john.doe@example.com");
  EXPECT_EQ(show(parse_address_list("x@[192.0.2.1]")), "[] x@[192.0.2.1]");
  EXPECT_EQ(show(parse_address_list(",,a@b,,")), "[] a@b");
}

TEST(AddressList, ATrailingCommentNamesABareAddress) {
  EXPECT_EQ(show(parse_address_list("user@domain (Real Name)")), "[Real Name] user@domain");
  EXPECT_EQ(show(parse_address_list("a@b ( x ), c@d")), "[x] a@b | [] c@d");
  EXPECT_EQ(show(parse_address_list("(before) a@b")), "[] a@b");
  EXPECT_EQ(show(parse_address_list("Name <a@b> (ignored)")), "[Name] a@b");
}

TEST(AddressList, KeepsQuotedLocalPartsAndQuotesThemForTheAddrSpec) {
  const auto list = parse_address_list("\"john doe\"@example.com");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].local, "john doe");
  EXPECT_EQ(address_spec(list[0]), "\"john doe\"@example.com");
  EXPECT_EQ(address_spec(parse_address_list("a.b@c")[0]), "a.b@c");
}

TEST(AddressList, ToleratesBrokenInput) {
  EXPECT_EQ(show(parse_address_list("undisclosed-recipients")), "[] undisclosed-recipients@");
  EXPECT_TRUE(parse_address_list("<>").empty());
  EXPECT_EQ(show(parse_address_list("Nobody <>, a@b")), "[] a@b");
  EXPECT_EQ(show(parse_address_list("Name <a@b")), "[Name] a@b");
  EXPECT_EQ(show(parse_address_list("a@b c@d")), "[] a@b | [] c@d");
  EXPECT_EQ(show(parse_address_list("\"Smith, A\" <a@b>; c@d")), "[Smith, A] a@b | [] c@d");
  EXPECT_EQ(show(parse_address_list("> ] @ ; a@b")), "[] a@b");
  EXPECT_EQ(show(parse_address_list("\"unterminated <a@b>")), "[] unterminated <a@b>@");
  EXPECT_TRUE(parse_address_list("").empty());
  EXPECT_TRUE(parse_address_list("  (just a comment)  ").empty());
}

TEST(AddressList, DecodesDisplayNames) {
  const auto list = parse_address_list(
      "=?utf-8?q?J=C3=B6rg?= Smith <j@x>, \"=?utf-8?b?w6k=?=\" <e@x>, "
      "M\xC3\xBCller <m@x>");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "J\xC3\xB6rg Smith");
  EXPECT_EQ(list[0].name_raw, "=?utf-8?q?J=C3=B6rg?= Smith");
  EXPECT_EQ(list[1].name, "\xC3\xA9");
  EXPECT_EQ(list[2].name, "M\xC3\xBCller");
}

}  // namespace
}  // namespace rampart::mime
