#include "base/metrics.h"

#include <gtest/gtest.h>

namespace rampart::metrics {
namespace {

TEST(Metrics, OneMetricPerNameAndLabelsInTheTextFormat) {
  Metric& a = get("test_events_total", Type::Counter, "Events.", "kind=" + label("a\"b"));
  a.add();
  a.add(2);
  EXPECT_EQ(&get("test_events_total", Type::Counter, "ignored", "kind=" + label("a\"b")), &a);
  get("test_level", Type::Gauge, "A level.").add(-4);
  const std::string text = render();
  EXPECT_NE(text.find("# HELP test_events_total Events.\n# TYPE test_events_total counter\n"
                      "test_events_total{kind=\"a\\\"b\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE test_level gauge\ntest_level -4\n"), std::string::npos);
  EXPECT_EQ(family("x", Type::Gauge, "X.", 1.5), "# HELP x X.\n# TYPE x gauge\nx 1.5\n");
}

TEST(Metrics, SlotsKeepTheMetricTheyFirstRegistered) {
  Slots<2> slots("test_slots_total", Type::Counter, "Slots.");
  int made = 0;
  auto labels = [&] {
    ++made;
    return "code=" + label("200");
  };
  Metric& first = slots.at(1, labels);
  first.add();
  EXPECT_EQ(&slots.at(1, labels), &first);
  EXPECT_EQ(made, 1);
  EXPECT_EQ(&get("test_slots_total", Type::Counter, "Slots.", "code=\"200\""), &first);
  // Past the fixed set: still the same series, looked up each time.
  EXPECT_EQ(&slots.at(7, labels), &first);
  EXPECT_EQ(made, 2);
  EXPECT_NE(render().find("test_slots_total{code=\"200\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace rampart::metrics
