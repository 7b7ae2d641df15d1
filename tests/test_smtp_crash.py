"""Nothing acknowledged is lost: SIGKILL the server during a concurrent SMTP load,
restart it, and find every message that got a 250, byte for byte."""

import signal
import smtplib
import threading
import time
import unittest

import test_smtp


class CrashDuringLoad(test_smtp.SmtpFixture):
    services = ["smtp"]

    def test_every_acknowledged_message_survives_sigkill(self):
        acknowledged = {}
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker):
            n = 0
            while not stop.is_set() and n < 2000:
                n += 1
                tag = f"w{worker}-{n}"
                body = f"Subject: {tag}\r\nMessage-ID: <{tag}@load.test>\r\n\r\n{tag} ".encode() + b"x" * 2000 + b"\r\n"
                try:
                    with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=10) as client:
                        client.sendmail("load@remote.test", ["alice@example.test"], body)
                except (OSError, smtplib.SMTPException):
                    return  # the server is gone
                with lock:
                    acknowledged[tag] = body

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        deadline = 60
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with lock:
                if len(acknowledged) >= 150:
                    break
            time.sleep(0.01)
        self.instance.stop(signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        self.assertGreater(len(acknowledged), 0)

        self.instance.start()  # reopens the store after the crash
        stored = {}
        for raw in self.inbox("alice@example.test"):
            body = self.body_of(raw)
            tag = body.split(b"\r\n", 1)[0][len(b"Subject: "):].decode()
            stored[tag] = body
        missing = [tag for tag in acknowledged if tag not in stored]
        self.assertEqual(missing, [], f"{len(missing)} of {len(acknowledged)} acknowledged messages lost")
        for tag, body in acknowledged.items():
            self.assertEqual(stored[tag], body, tag)


if __name__ == "__main__":
    unittest.main()
