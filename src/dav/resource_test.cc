#include "dav/resource.h"

#include <gtest/gtest.h>

namespace rampart::dav {
namespace {

TEST(Resource, ResolvesEachDepth) {
  EXPECT_EQ(resolve({"dav"})->kind, Kind::Root);
  EXPECT_EQ(resolve({"dav", "principals", "a@x.test"})->kind, Kind::Principal);
  EXPECT_EQ(resolve({"dav", "calendars", "a@x.test"})->kind, Kind::CalendarHome);
  auto object = resolve({"dav", "calendars", "a@x.test", "work", "e.ics"});
  ASSERT_TRUE(object);
  EXPECT_EQ(object->kind, Kind::CalendarObject);
  EXPECT_EQ(object->owner, "a@x.test");
  EXPECT_EQ(object->collection, "work");
  EXPECT_EQ(object->object, "e.ics");
  EXPECT_EQ(resolve({"dav", "addressbooks", "a@x.test", "default"})->kind, Kind::AddressBook);
  EXPECT_EQ(resolve({"dav", "addressbooks", "a@x.test", "default", "c.vcf"})->kind, Kind::Card);
}

TEST(Resource, RefusesOtherPaths) {
  EXPECT_FALSE(resolve({}));
  EXPECT_FALSE(resolve({"jmap"}));
  EXPECT_FALSE(resolve({"dav", "files"}));
  EXPECT_FALSE(resolve({"dav", "calendars"}));
  EXPECT_FALSE(resolve({"dav", "principals", "a@x.test", "more"}));
  EXPECT_FALSE(resolve({"dav", "calendars", "a@x.test", "c", "o", "deeper"}));
}

TEST(Resource, WritesHrefsWithSlashesOnCollectionsAndEncodedSegments) {
  auto object = resolve({"dav", "calendars", "a@x.test", "my work", "ü.ics"});
  ASSERT_TRUE(object);
  EXPECT_EQ(href(*object), "/dav/calendars/a@x.test/my%20work/%C3%BC.ics");
  EXPECT_EQ(href(parent(*object)), "/dav/calendars/a@x.test/my%20work/");
  EXPECT_EQ(href(parent(parent(*object))), "/dav/calendars/a@x.test/");
  EXPECT_EQ(principal_href("a@x.test"), "/dav/principals/a@x.test/");
}

TEST(Resource, ReadsHrefsFromBodiesAsTargets) {
  auto found = resolve_href("/dav/calendars/a@x.test/my%20work/%C3%BC.ics");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->collection, "my work");
  EXPECT_EQ(found->object, "ü.ics");
  auto absolute = resolve_href("https://mail.x.test/dav/addressbooks/a@x.test/default/c.vcf");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->kind, Kind::Card);
  // What the target decoder refuses is refused here too.
  EXPECT_FALSE(resolve_href("/dav/calendars/a@x.test/../b@x.test/default/e.ics"));
  EXPECT_FALSE(resolve_href("/dav/calendars/a@x.test/w%2Fx/e.ics"));
  EXPECT_FALSE(resolve_href("https://host"));
  EXPECT_FALSE(resolve_href("/dav/calendars/a@x.test/w/e.ics?x=1"));
}

}  // namespace
}  // namespace rampart::dav
