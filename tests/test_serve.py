"""`rampart serve`: listeners, TLS, replies of services not built yet, clean shutdown."""

import imaplib
import poplib
import signal
import smtplib
import ssl
import unittest
import urllib.error
import urllib.request

from harness import InstanceTest


class Serve(InstanceTest):
    def test_logs_listeners_answers_and_stops_on_sigterm(self):
        instance = self.instance
        instance.start()
        for service, port in instance.ports.items():
            self.assertIn(f"listening on 127.0.0.1:{port} ({service})", instance.log_text())
        self.assertIn("self-signed certificate", instance.log_text())

        with smtplib.SMTP("127.0.0.1", instance.ports["smtp"], timeout=10) as client:
            self.assertEqual(client.noop()[0], 250)

        with imaplib.IMAP4("127.0.0.1", instance.ports["imap"], timeout=10) as client:
            self.assertIn("STARTTLS", client.capabilities)

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with imaplib.IMAP4_SSL("127.0.0.1", instance.ports["imaps"], ssl_context=context,
                               timeout=10) as client:
            self.assertIn("AUTH=PLAIN", client.capabilities)

        with self.assertRaises(poplib.error_proto):
            poplib.POP3("127.0.0.1", instance.ports["pop3"], timeout=10)

        with self.assertRaises(urllib.error.HTTPError) as http:
            urllib.request.urlopen(f"http://127.0.0.1:{instance.ports['http']}/", timeout=10)
        self.assertEqual(http.exception.code, 503)

        self.assertEqual(instance.stop(signal.SIGTERM), 0)
        self.assertIn("received SIGTERM", instance.log_text())
        self.assertIn("stopped", instance.log_text())

    def test_tls_is_1_2_or_newer(self):
        self.instance.start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("ALL:@SECLEVEL=0")
        import socket
        with socket.create_connection(("127.0.0.1", self.instance.ports["imaps"]), timeout=10) as raw:
            with self.assertRaises(ssl.SSLError):
                context.wrap_socket(raw).do_handshake()

    def test_port_in_use_refuses_to_start(self):
        import socket
        holder = socket.socket()
        holder.bind(("127.0.0.1", self.instance.ports["imap"]))
        holder.listen()
        self.addCleanup(holder.close)
        result = self.instance.cli("serve")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"cannot listen on 127.0.0.1:{self.instance.ports['imap']}", result.stderr)


if __name__ == "__main__":
    unittest.main()
