#include "audit/webhook.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace rampart::audit {
namespace {

TEST(WebhookUrl, TakesHostPortAndPath) {
  auto target = parse_webhook_url("http://127.0.0.1:9000/hooks/rampart");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "127.0.0.1");
  EXPECT_EQ(target->port, 9000);
  EXPECT_EQ(target->path, "/hooks/rampart");
  target = parse_webhook_url("http://[::1]:81");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->host, "::1");
  EXPECT_EQ(target->path, "/");
  EXPECT_EQ(parse_webhook_url("http://alerts.example.org")->port, 80);
}

TEST(WebhookUrl, RefusesWhatItCannotDo) {
  for (const char* url : {"https://x.example/", "ftp://x/", "http://", "http://u:p@x/",
                          "http://x:0/", "http://x:70000/", "http://x:1a/", "http://x:/",
                          "http://[::1/", "http://x/a b", "http://x/a\r\nInjected: 1"}) {
    EXPECT_FALSE(parse_webhook_url(url)) << url;
  }
}

TEST(AlertJson, EscapesEveryString) {
  EXPECT_EQ(alert_json({"new-network", "a\"b@x.test", "::1", "line\nbreak\\"}, "mail.test"),
            R"({"kind":"new-network","account":"a\"b@x.test","address":"::1",)"
            R"("text":"line\u000abreak\\","server":"mail.test"})");
}

TEST(WebhookSink, PostsTheAlertAsJson) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  ::listen(listener, 1);
  std::string received;
  std::thread server([&] {
    const int client = ::accept(listener, nullptr, nullptr);
    char buffer[4096];
    while (received.find("}") == std::string::npos) {
      const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      received.append(buffer, static_cast<std::size_t>(got));
    }
    const char reply[] = "HTTP/1.1 204 No Content\r\n\r\n";
    ::send(client, reply, sizeof reply - 1, 0);
    ::close(client);
  });
  WebhookTarget target{"127.0.0.1", ntohs(address.sin_port), "/hook"};
  webhook_sink(target, "mail.test")({"mass-deletion", "a@x.test", "192.0.2.1", "300 deleted"});
  server.join();
  ::close(listener);
  EXPECT_EQ(received.rfind("POST /hook HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(received.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(received.find(R"("kind":"mass-deletion")"), std::string::npos);
}

}  // namespace
}  // namespace rampart::audit
