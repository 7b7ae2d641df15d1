#include "dns/resolver.h"

#include <unbound.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <set>

#include "dns/rdata.h"

namespace rampart::dns {

namespace asio = boost::asio;

namespace {

constexpr auto kLookupTimeout = std::chrono::seconds(30);
constexpr const char* kRootKey = "/usr/share/dns/root.key";

// One lookup in flight: where its answer goes, and the timer its coroutine waits on.
struct Pending {
  explicit Pending(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  bool done = false;
  Result<Answer> answer = fail(Errc::TryLater, "DNS: no answer");
};

void on_answer(void* argument, int error, ub_result* result) {
  auto* pending = static_cast<Pending*>(argument);
  pending->done = true;
  if (error != 0 || result == nullptr) {
    pending->answer = fail(Errc::TryLater, std::string("DNS: ") + ub_strerror(error));
  } else {
    Answer answer{.nxdomain = result->nxdomain != 0,
                  .secure = result->secure != 0,
                  .bogus = result->bogus != 0,
                  .rcode = result->rcode,
                  .rdata = {},
                  .why_bogus = result->why_bogus ? result->why_bogus : ""};
    for (int i = 0; result->havedata && result->data[i] != nullptr; ++i) {
      answer.rdata.emplace_back(result->data[i], static_cast<std::size_t>(result->len[i]));
    }
    pending->answer = std::move(answer);
  }
  if (result) ub_resolve_free(result);
  pending->timer.cancel();
}

}  // namespace

struct Resolver::State {
  State(asio::any_io_executor on, ub_ctx* created)
      : executor(std::move(on)), context(created), readable(executor, ::dup(ub_fd(created))) {}
  ~State() {
    boost::system::error_code ignored;
    readable.close(ignored);
    ub_ctx_delete(context);
  }

  // While lookups are in flight: hands their answers over as they come. The last one
  // done cancels the wait, so an idle resolver keeps nothing waiting.
  asio::awaitable<void> pump(std::shared_ptr<State> self) {
    while (!pending.empty()) {
      boost::system::error_code error;
      co_await readable.async_wait(asio::posix::descriptor_base::wait_read,
                                   asio::redirect_error(asio::use_awaitable, error));
      if (error == asio::error::operation_aborted) continue;
      if (error) break;  // the lookups waiting time out
      ub_process(context);
    }
    pumping = false;
    (void)self;
  }

  asio::any_io_executor executor;
  ub_ctx* context;
  asio::posix::stream_descriptor readable;
  std::set<Pending*> pending;
  bool pumping = false;
};

Result<std::unique_ptr<Resolver>> Resolver::open(asio::any_io_executor executor,
                                                 const ResolverOptions& options) {
  ub_ctx* context = ub_ctx_create();
  if (!context) return fail(Errc::Internal, "DNS: cannot create a resolver");
  auto state = std::make_shared<State>(std::move(executor), context);
  auto check = [](int error, const std::string& what) -> Result<void> {
    if (error == 0) return {};
    return fail(Errc::BadInput, "DNS: " + what + ": " + ub_strerror(error));
  };
  // One worker thread does every lookup; answers come back through ub_fd.
  if (auto done = check(ub_ctx_async(context, 1), "threads"); !done) {
    return tl::unexpected(done.error());
  }
  // Without /etc/resolv.conf unbound resolves from the root itself.
  if (options.forwarders.empty()) ub_ctx_resolvconf(context, nullptr);
  for (const Endpoint& forwarder : options.forwarders) {
    const std::string address = forwarder.address + "@" + std::to_string(forwarder.port);
    if (auto done = check(ub_ctx_set_fwd(context, address.c_str()), "forwarder " + address);
        !done) {
      return tl::unexpected(done.error());
    }
  }
  // Forwarders on loopback (a local resolver) are what is asked.
  ub_ctx_set_option(context, "do-not-query-localhost:", "no");
  std::filesystem::path anchor = options.trust_anchor;
  std::error_code error;
  if (anchor.empty() && std::filesystem::exists(kRootKey, error)) anchor = kRootKey;
  if (!anchor.empty()) {
    if (auto done = check(ub_ctx_add_ta_file(context, anchor.c_str()), anchor.string()); !done) {
      return tl::unexpected(done.error());
    }
  }
  return std::unique_ptr<Resolver>(new Resolver(std::move(state)));
}

Resolver::~Resolver() = default;

asio::awaitable<Result<Answer>> Resolver::query(std::string name, Type type) {
  std::shared_ptr<State> state = state_;
  auto lookup = [](std::shared_ptr<State> state, std::string name,
                   Type type) -> asio::awaitable<Result<Answer>> {
    Pending pending(state->executor);
    pending.timer.expires_after(kLookupTimeout);
    int id = 0;
    const int error = ub_resolve_async(state->context, name.c_str(), static_cast<int>(type),
                                       1 /* IN */, &pending, on_answer, &id);
    if (error != 0) co_return fail(Errc::TryLater, std::string("DNS: ") + ub_strerror(error));
    state->pending.insert(&pending);
    if (!state->pumping) {
      state->pumping = true;
      asio::co_spawn(state->executor, state->pump(state), asio::detached);
    }
    boost::system::error_code ignored;
    co_await pending.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    state->pending.erase(&pending);
    if (state->pending.empty()) state->readable.cancel();
    if (!pending.done) {
      ub_cancel(state->context, id);
      co_return fail(Errc::TryLater, "DNS: no answer for " + name + " in time");
    }
    co_return std::move(pending.answer);
  };
  co_return co_await asio::co_spawn(state->executor, lookup(state, std::move(name), type),
                                    asio::use_awaitable);
}

bool answered(const Result<Answer>& answer) {
  return answer && !answer->bogus && (answer->rcode == 0 || answer->nxdomain);
}

std::vector<std::string> txt_records(const Answer& answer) {
  std::vector<std::string> records;
  for (const std::string& rdata : answer.rdata) {
    if (auto text = parse_txt(rdata)) records.push_back(std::move(*text));
  }
  return records;
}

}  // namespace rampart::dns
