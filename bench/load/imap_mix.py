"""The IMAP work shared by the closed-loop (imap_load.py) and open-loop
(imap_rate.py) loads: preparing a user's mailboxes, and running one command of
the mix on a logged-in session with INBOX selected.

The mix (weights): FETCH of 10 messages' headers 30, FETCH of one whole
message 20, STORE +/-FLAGS 20, SEARCH 15, APPEND 15; the open-loop load adds
SELECT, STATUS and LIST (OPEN_MIX).
"""
import random

from common import Imap, ImapError, make_message

MIX = [("FETCH_HEADERS", 30), ("FETCH_BODY", 20), ("STORE", 20), ("SEARCH", 15), ("APPEND", 15)]
OPEN_MIX = MIX + [("SELECT", 4), ("STATUS", 4), ("LIST", 4)]
# Made by prepare() where missing, so LIST and STATUS see the same mailboxes on
# every server (Rampart creates these for a new user, Dovecot only INBOX).
FOLDERS = ["Archive", "Drafts", "Junk", "Sent", "Trash"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo"]


class Session:
    """One logged-in connection with INBOX selected, and what the mix needs
    to know about it."""

    def __init__(self, client: Imap, index: int, user: int, exists: int, size: int, run_id: str) -> None:
        self.client = client
        self.index = index
        self.user = user
        self.exists = exists
        self.size = size
        self.run_id = run_id
        self.rng = random.Random(index)
        self.appended = 0

    def note(self, untagged: list[bytes]) -> None:
        for line in untagged:
            words = line.split()
            if len(words) >= 3 and words[0] == b"*" and words[2] == b"EXISTS":
                self.exists = int(words[1])


async def prepare(client: Imap, seed: int, size: int, run_id: str, trim: bool = False) -> int:
    """On a logged-in client: creates FOLDERS where missing, selects INBOX and
    appends messages until it holds `seed`; with trim, also expunges messages
    beyond the first `seed` (what earlier loads appended), so every step of a
    load starts from the same mailbox. Leaves INBOX selected; returns EXISTS."""
    for folder in FOLDERS:
        try:
            await client.command(f"CREATE {folder}")
        except ImapError:
            pass   # exists already
    exists = await client.select("INBOX")
    for n in range(exists, seed):
        await client.command("APPEND INBOX", make_message(size, run_id, n, "seed@example.test", "u@example.test"))
    if trim and exists > seed:
        await client.command(f"STORE {seed + 1}:* +FLAGS.SILENT (\\Deleted)")
        await client.command("EXPUNGE")
    return await client.select("INBOX")


async def execute(session: Session, name: str, on_append=None) -> None:
    """Runs one command of the mix; raises ImapError on NO/BAD. on_append(),
    if given, is called just before an APPEND is sent."""
    rng, client = session.rng, session.client
    exists = max(1, session.exists)
    if name == "FETCH_HEADERS":
        low = rng.randint(1, max(1, exists - 9))
        untagged = await client.command(f"FETCH {low}:{min(exists, low + 9)} (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])")
    elif name == "FETCH_BODY":
        untagged = await client.command(f"FETCH {rng.randint(1, exists)} (UID BODY.PEEK[])")
    elif name == "STORE":
        sign = rng.choice("+-")
        untagged = await client.command(f"STORE {rng.randint(1, exists)} {sign}FLAGS (\\Flagged \\Seen)")
    elif name == "SEARCH":
        word = rng.choice(WORDS)
        criteria = rng.choice([f"SUBJECT {word}", "UNSEEN", "FLAGGED", f"SINCE 1-Jan-2020 SUBJECT {word}"])
        untagged = await client.command(f"SEARCH {criteria}")
    elif name == "APPEND":
        session.appended += 1
        message = make_message(session.size, f"{session.run_id}-{session.index}", session.appended,
                               "load@example.test", "u@example.test")
        if on_append:
            on_append()
        untagged = await client.command("APPEND INBOX", message)   # answered with * n EXISTS
    elif name == "SELECT":
        untagged = await client.command("SELECT INBOX")
    elif name == "STATUS":
        mailbox = "INBOX" if rng.random() < 0.5 else rng.choice(FOLDERS)
        untagged = await client.command(f"STATUS {mailbox} (MESSAGES UNSEEN UIDNEXT)")
    elif name == "LIST":
        untagged = await client.command('LIST "" "*"')
    else:
        raise ValueError(name)
    session.note(untagged)
