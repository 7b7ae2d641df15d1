#!/usr/bin/python3
"""Writes the dkimpy fixtures of src/dkim/verifier_test.cc into testdata/dkimpy/:
messages signed by Debian's dkimpy (python3-dkim, with python3-nacl for ed25519), and
keys.txt, the key records that verify them ("NAME<TAB>RECORD" a line). Each message is
checked with dkimpy's own verifier before it is written. New keys each run: the private
keys are not kept, so a rerun rewrites every file.

    /usr/bin/python3 src/dkim/testdata/make_dkimpy_fixtures.py
"""
import base64
import os
import subprocess

import dkim
import nacl.signing

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dkimpy")

MESSAGE = (
    b"Received: from a.example.org by b.example.org; Mon, 1 Jun 2026 10:00:00 +0000\r\n"
    b"From: Alice Example <alice@example.org>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: A folded\r\n"
    b"\tsubject  with   spaces \r\n"
    b"Date: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
    b"Message-ID: <fixture@example.org>\r\n"
    b"X-Tag: first\r\n"
    b"X-Tag: second\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello Bob,  \r\n"
    b"\r\n"
    b"a line\twith  tabs and   spaces \t\r\n"
    b" a line that begins with a space\r\n"
    b"\r\n"
    b"\r\n"
)


def rsa_key(bits=2048):
    pem = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}"],
        capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem,
                         capture_output=True, check=True).stdout
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed25519_key():
    key = nacl.signing.SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return base64.b64encode(bytes(key)), "v=DKIM1; k=ed25519; p=" + public


def main():
    os.makedirs(OUT, exist_ok=True)
    keys = {  # (selector, domain): (private key, record)
        (b"rsa", b"example.org"): rsa_key(),
        (b"ed", b"example.org"): ed25519_key(),
        (b"lists", b"example.net"): rsa_key(),
    }

    def dns(name, timeout=5):
        for (selector, domain), (_, record) in keys.items():
            if name == selector + b"._domainkey." + domain + b".":
                return record.encode()
        return None

    def sign(message, selector, domain, **options):
        algorithm = b"ed25519-sha256" if selector == b"ed" else b"rsa-sha256"
        field = dkim.sign(message, selector, domain, keys[(selector, domain)][0],
                          signature_algorithm=algorithm, **options)
        return field + message

    cases = {
        "simple-simple": sign(MESSAGE, b"rsa", b"example.org", canonicalize=(b"simple", b"simple")),
        "relaxed-simple": sign(MESSAGE, b"rsa", b"example.org",
                               canonicalize=(b"relaxed", b"simple")),
        "relaxed-relaxed": sign(MESSAGE, b"rsa", b"example.org",
                                canonicalize=(b"relaxed", b"relaxed")),
        "ed25519-simple-relaxed": sign(MESSAGE, b"ed", b"example.org",
                                       canonicalize=(b"simple", b"relaxed")),
        "ed25519-relaxed-relaxed": sign(MESSAGE, b"ed", b"example.org",
                                        canonicalize=(b"relaxed", b"relaxed")),
        # l=: the body's length after canonicalization.
        "length": sign(MESSAGE, b"rsa", b"example.org", canonicalize=(b"relaxed", b"simple"),
                       length=True),
        # h= naming X-Tag twice (both taken bottom-up) and Reply-To, which is not there.
        "selected-fields": sign(MESSAGE, b"rsa", b"example.org",
                                canonicalize=(b"simple", b"simple"),
                                include_headers=[b"from", b"x-tag", b"x-tag", b"reply-to",
                                                 b"subject"]),
    }
    # Three signatures, as a message gathers them on its way: the author's domain with
    # both algorithms, then a mailing list's with an i= in a subdomain of its d=.
    several = sign(MESSAGE, b"rsa", b"example.org", canonicalize=(b"simple", b"simple"))
    several = sign(several, b"ed", b"example.org", canonicalize=(b"relaxed", b"relaxed"))
    several = sign(several, b"lists", b"example.net", canonicalize=(b"relaxed", b"simple"),
                   identity=b"list@lists.example.net")
    cases["several"] = several

    for name, message in cases.items():
        count = message.count(b"DKIM-Signature:")
        for index in range(count):
            if not dkim.DKIM(message).verify(idx=index, dnsfunc=dns):
                raise SystemExit(f"dkimpy does not verify {name}, signature {index}")
        with open(os.path.join(OUT, name + ".eml"), "wb") as out:
            out.write(message)
    with open(os.path.join(OUT, "keys.txt"), "w") as out:
        for (selector, domain), (_, record) in keys.items():
            out.write(f"{selector.decode()}._domainkey.{domain.decode()}\t{record}\n")


if __name__ == "__main__":
    main()
