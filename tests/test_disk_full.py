"""A full disk gives a clear error and loses nothing (needs root for a small tmpfs)."""

import os
import subprocess
import tempfile
import unittest

from harness import run


@unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
class DiskFull(unittest.TestCase):
    def setUp(self):
        self.mount = tempfile.mkdtemp(prefix="rampart-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mount], check=True)
        self.addCleanup(os.rmdir, self.mount)
        self.addCleanup(subprocess.run, ["umount", self.mount], check=True)
        self.config = os.path.join(self.mount, "rampart.toml")
        with open(self.config, "w") as f:
            f.write(f'data_dir = "{self.mount}/data"\n')

    def cli(self, *args, stdin=None):
        return run(list(args), stdin=stdin, config=self.config)

    def test_full_disk_is_reported_and_nothing_is_lost(self):
        self.assertEqual(self.cli("domain", "add", "example.test").returncode, 0)
        self.assertEqual(self.cli("user", "add", "a@example.test", stdin="a-long-password\n").returncode, 0)
        filler = os.path.join(self.mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        failures = 0
        for i in range(20):
            result = self.cli("user", "add", f"u{i}@example.test", stdin="a-long-password\n")
            if result.returncode != 0:
                failures += 1
                self.assertEqual(result.returncode, 1)
                self.assertIn("disk full", result.stderr)
        self.assertGreater(failures, 0, "the disk never filled up")
        os.remove(filler)
        listed = self.cli("user", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("a@example.test", listed.stdout.splitlines())
        self.assertEqual(self.cli("user", "add", "after@example.test", stdin="a-long-password\n").returncode, 0)


if __name__ == "__main__":
    unittest.main()
