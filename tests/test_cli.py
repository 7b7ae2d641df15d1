"""The `rampart` admin command against a real data directory."""

import os
import stat
import unittest

from harness import InstanceTest, run


class ConfigErrors(InstanceTest):
    def write(self, text):
        with open(self.instance.config, "w") as f:
            f.write(text)

    def test_unknown_key_names_file_line_and_key(self):
        self.write('hostname = "a"\n[listen]\nimapz = ["127.0.0.1:1"]\n')
        for command in (["check-config"], ["serve"], ["user", "list"]):
            result = self.instance.cli(*command)
            self.assertEqual(result.returncode, 1, command)
            self.assertIn(f"{self.instance.config}:3: listen.imapz: unknown key", result.stderr)

    def test_bad_value_is_refused(self):
        self.write('[listen]\nsmtp = ["127.0.0.1:99999"]\n')
        result = self.instance.cli("serve")
        self.assertEqual(result.returncode, 1)
        self.assertIn(":2: listen.smtp:", result.stderr)

    def test_unreadable_file_is_refused(self):
        result = run(["check-config"], config="/nonexistent/rampart.toml")
        self.assertEqual(result.returncode, 1)
        self.assertIn("/nonexistent/rampart.toml", result.stderr)

    def test_good_config_checks(self):
        result = self.instance.cli("check-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("config OK", result.stdout)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run(["frobnicate"]).returncode, 2)
        self.assertEqual(run(["user", "add"], config=self.instance.config).returncode, 2)


class Directory(InstanceTest):
    def test_domains_users_and_aliases(self):
        cli = self.instance.cli
        self.assertEqual(cli("domain", "add", "Example.TEST").returncode, 0)
        self.assertEqual(cli("domain", "list").stdout, "example.test\n")
        self.assertEqual(cli("domain", "add", "example.test").returncode, 1)

        added = cli("user", "add", "Demo@example.test", stdin="a-long-password\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertEqual(cli("user", "list").stdout, "demo@example.test\n")
        again = cli("user", "add", "demo@example.test", stdin="a-long-password\n")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already exists", again.stderr)

        for bad in ("not-an-address", "a b@example.test", "x@unknown.test"):
            result = cli("user", "add", bad, stdin="a-long-password\n")
            self.assertEqual(result.returncode, 1, bad)
            self.assertTrue(result.stderr.startswith("rampart: cannot add"), result.stderr)
        short = cli("user", "add", "x@example.test", stdin="short\n")
        self.assertEqual(short.returncode, 1)
        self.assertIn("password shorter", short.stderr)
        self.assertEqual(cli("user", "add", "x@example.test", stdin="").returncode, 1)

        self.assertEqual(cli("user", "passwd", "demo@example.test", stdin="another-password\n").returncode, 0)
        self.assertEqual(cli("user", "passwd", "ghost@example.test", stdin="another-password\n").returncode, 1)

        self.assertEqual(cli("alias", "add", "info@example.test", "demo@example.test").returncode, 0)
        self.assertEqual(cli("alias", "add", "x@example.test", "ghost@example.test").returncode, 1)
        self.assertEqual(cli("alias", "add", "@example.test", "info@example.test").returncode, 0)
        self.assertEqual(cli("alias", "list").stdout,
                         "@example.test -> info@example.test\ninfo@example.test -> demo@example.test\n")
        self.assertEqual(cli("alias", "remove", "info@example.test").returncode, 0)

        self.assertEqual(cli("domain", "remove", "example.test").returncode, 1, "accounts remain")
        self.assertEqual(cli("user", "remove", "demo@example.test").returncode, 0)
        self.assertEqual(cli("user", "list").stdout, "")

    def test_data_directory_is_private(self):
        self.assertEqual(self.instance.cli("domain", "add", "example.test").returncode, 0)
        mode = stat.S_IMODE(os.stat(self.instance.data).st_mode)
        self.assertEqual(mode, 0o700)


if __name__ == "__main__":
    unittest.main()
