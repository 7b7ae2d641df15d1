"""OpenDMARC's policy library (Debian's libopendmarc2) as an oracle for DMARC: given the
From domain, the DMARC record found (and where), the SPF result and the DKIM signatures
that verified, what it says to do with the message. Called through ctypes; it looks
nothing up itself (the test hands it what DNS answered)."""

import ctypes
import ctypes.util

PSL = "/usr/share/publicsuffix/public_suffix_list.dat"

SPF_NONE, SPF_PASS, SPF_FAIL = 0, 1, 2
DKIM_PASS = 1
SPF_ORIGIN_MAILFROM = 1
POLICIES = {14: "absent", 15: "pass", 16: "reject", 17: "quarantine", 18: "none"}


class _LibInit(ctypes.Structure):
    _fields_ = [("tld_type", ctypes.c_int), ("tld_source_file", ctypes.c_char * 2048),
                ("nscount", ctypes.c_int), ("nsaddr_list", ctypes.c_byte * (16 * 3))]


class OpenDmarc:
    def __init__(self):
        self.lib = ctypes.CDLL(ctypes.util.find_library("opendmarc") or "libopendmarc.so.2")
        self.lib.opendmarc_policy_connect_init.restype = ctypes.c_void_p
        self.lib.opendmarc_policy_connect_shutdown.argtypes = [ctypes.c_void_p]
        for name in ["opendmarc_policy_store_from_domain", "opendmarc_policy_store_dkim",
                     "opendmarc_policy_store_spf", "opendmarc_policy_store_dmarc",
                     "opendmarc_get_policy_to_enforce"]:
            getattr(self.lib, name).argtypes = None
        init = _LibInit()
        init.tld_type = 1  # the Mozilla public suffix list
        init.tld_source_file = PSL.encode()
        self.init = init
        self.lib.opendmarc_policy_library_init(ctypes.byref(init))

    def policy(self, from_domain, record, record_domain, organizational, spf, dkim_passed):
        """'pass', 'reject', 'quarantine', 'none' (p=none) or 'absent' (no record).
        `spf` is (domain, SPF_*); `dkim_passed` the d= of each signature that verified."""
        ctx = ctypes.c_void_p(self.lib.opendmarc_policy_connect_init(b"127.0.0.1", 4))
        try:
            self.lib.opendmarc_policy_store_from_domain(ctx, from_domain.encode())
            self.lib.opendmarc_policy_store_spf(ctx, spf[0].encode(), ctypes.c_int(spf[1]),
                                                ctypes.c_int(SPF_ORIGIN_MAILFROM), None)
            for domain in dkim_passed:
                self.lib.opendmarc_policy_store_dkim(ctx, domain.encode(), b"s1",
                                                     ctypes.c_int(DKIM_PASS), None)
            if record is not None:
                status = self.lib.opendmarc_policy_store_dmarc(
                    ctx, record.encode(), record_domain.encode(),
                    organizational.encode() if organizational else None)
                assert status == 0, f"OpenDMARC refused the record {record!r}: {status}"
            return POLICIES[self.lib.opendmarc_get_policy_to_enforce(ctx)]
        finally:
            self.lib.opendmarc_policy_connect_shutdown(ctx)
