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

}  // namespace
}  // namespace rampart::metrics
