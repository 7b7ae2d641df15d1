// What an MX finds out about who sent a message (docs/filtering.md): SPF for the MAIL
// FROM domain (or the HELO name for the null sender) when MAIL FROM is given, then at
// the end of DATA every DKIM signature verified, DMARC evaluated for the From domain and
// the ARC chain validated, and the one Authentication-Results field (RFC 8601) that reports them.
// The lookups go through the delivery service's resolver (DNSSEC-validating libunbound), resumed on
// the caller's executor; the protocol logic is in the pure modules (spf/, dkim/verifier.h,
// mailauth/dmarc.h).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "dkim/arc.h"
#include "dkim/verifier.h"
#include "mailauth/dmarc.h"
#include "mailauth/public_suffix.h"
#include "spf/check_host.h"

namespace rampart::dns {
class Resolver;
}

namespace rampart::mailauth {

struct SpfOutcome {
  spf::SpfResult result;
  bool checked = false;  // false: not looked at (no MAIL FROM yet)
  bool helo = false;     // the HELO identity was checked (the null sender)
  std::string identity;  // the MAIL FROM address, or the HELO name
  std::string domain;    // the domain checked
};

struct Verdicts {
  SpfOutcome spf;
  std::vector<dkim::Verdict> dkim;
  std::string from_domain;  // empty: no single From domain
  DmarcResult dmarc;
  dkim::ArcVerdict arc;  // the ARC chain the message came with (RFC 8617)
  // A DMARC failure whose policy a trusted sealer's ARC set overrode (RFC 7489 section
  // 7.2, local policy): the policy it had, else None.
  DmarcRecord::Policy arc_overridden = DmarcRecord::Policy::None;
  std::string header;  // the Authentication-Results field, CRLF-ended
  // Its value, from the authserv-id on, without the final CRLF: what an ARC seal records.
  std::string results;
  // "spf=pass dkim=pass dmarc=pass arc=none": for the log and the audit trail.
  std::string summary() const;
};

class Inbound {
 public:
  // `authserv_id` names this server in Authentication-Results (its host name).
  // `trusted_sealers`: [filter] arc_trusted_sealers.
  Inbound(dns::Resolver& resolver, std::string authserv_id, PublicSuffixList suffixes,
          std::vector<std::string> trusted_sealers = {});

  boost::asio::awaitable<SpfOutcome> check_spf(std::string client_ip, std::string mail_from,
                                               std::string helo);
  // `message` as received (its Authentication-Results claiming our id already removed);
  // the caller keeps it until the check returns.
  boost::asio::awaitable<Verdicts> check_message(std::string_view message, SpfOutcome spf);

  const std::string& authserv_id() const { return authserv_id_; }

 private:
  dns::Resolver& resolver_;
  std::string authserv_id_;
  PublicSuffixList suffixes_;
  std::vector<std::string> trusted_sealers_;
};

}  // namespace rampart::mailauth
