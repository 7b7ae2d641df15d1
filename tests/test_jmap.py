"""JMAP Mail (RFC 8621) against the real server over HTTP, with mail delivered by
smtplib and read and changed over imaplib, so that IMAP and JMAP are seen to show one
truth: Mailbox, Email, Thread and SearchSnippet methods, their errors, /changes that
follow IMAP's changes, and IMAP that sees JMAP's."""

import base64
import http.client
import imaplib
import json
import os
import re
import smtplib
import subprocess
import socket
import sqlite3
import time
import unittest
import uuid

from harness import Instance

USER = "jules@example.test"
PASSWORD = "a-long-password"
OTHER = "mo@example.test"
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission",
         "urn:ietf:params:jmap:vacationresponse"]


class Jmap:
    """A minimal JMAP client: one keep-alive connection, Basic auth."""

    def __init__(self, port, user, password):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.session = self.get("/jmap/session")
        self.account = self.session["primaryAccounts"]["urn:ietf:params:jmap:mail"]

    def close(self):
        self.connection.close()

    def get(self, path):
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body)
        return json.loads(body)

    def raw(self, method, path, body=b"", content_type="application/octet-stream"):
        """Status, headers and body of one request."""
        headers = dict(self.headers, **{"Content-Type": content_type})
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    def request(self, calls, using=USING, created_ids=None):
        body = {"using": using, "methodCalls": calls}
        if created_ids is not None:
            body["createdIds"] = created_ids
        self.connection.request("POST", "/jmap/api", body=json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def call(self, name, arguments, account=True):
        """One method call; returns [name, arguments] of its response."""
        if account:
            arguments = {"accountId": self.account, **arguments}
        status, body = self.request([[name, arguments, "c"]])
        assert status == 200, body
        name, result, call_id = body["methodResponses"][0]
        assert call_id == "c"
        return name, result

    def ok(self, name, arguments):
        answer, result = self.call(name, arguments)
        assert answer == name, (answer, result)
        return result

    def error(self, name, arguments):
        answer, result = self.call(name, arguments)
        assert answer == "error", (answer, result)
        return result["type"]


def message(subject, body="Hello there.\r\n", message_id=None, in_reply_to=None, extra=""):
    message_id = message_id or f"{uuid.uuid4()}@example.test"
    lines = [f"From: Ann Sender <ann@example.test>", f"To: {USER}", f"Subject: {subject}",
             f"Message-ID: <{message_id}>", "Date: Mon, 23 Nov 2026 10:00:00 +0100"]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return "\r\n".join(lines) + "\r\n" + extra + "\r\n" + body


class JmapMail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instance = Instance(["smtp", "imap", "http"])
        cls.instance.add_account(USER, PASSWORD)
        cls.instance.add_account(OTHER, PASSWORD)
        cls.instance.start()
        cls.jmap = Jmap(cls.instance.ports["http"], USER, PASSWORD)
        cls.mailboxes = {m["role"] or m["name"]: m["id"]
                         for m in cls.jmap.ok("Mailbox/get", {"ids": None})["list"]}

    @classmethod
    def tearDownClass(cls):
        cls.jmap.close()
        cls.instance.close()

    def deliver(self, text, to=USER, sender="ann@example.test"):
        with smtplib.SMTP("127.0.0.1", self.instance.ports["smtp"], timeout=30) as smtp:
            smtp.sendmail(sender, [to], text.encode())

    def imap(self):
        client = imaplib.IMAP4("127.0.0.1", self.instance.ports["imap"])
        client.login(USER, PASSWORD)
        self.addCleanup(client.logout)
        return client

    def state(self, type_name):
        return self.jmap.ok(f"{type_name}/get", {"ids": []})["state"]

    def find(self, subject):
        """The id of the one Email with exactly this subject."""
        ids = self.jmap.ok("Email/query", {"filter": {"subject": subject}})["ids"]
        got = self.jmap.ok("Email/get", {"ids": ids, "properties": ["subject"]})["list"]
        exact = [email["id"] for email in got if email["subject"] == subject]
        self.assertEqual(len(exact), 1, subject)
        return exact[0]

    def test_session_offers_mail_with_one_mailbox_per_email(self):
        session = self.jmap.session
        self.assertIn("urn:ietf:params:jmap:mail", session["capabilities"])
        account = session["accounts"][self.jmap.account]
        self.assertEqual(account["accountCapabilities"]["urn:ietf:params:jmap:mail"]["maxMailboxesPerEmail"], 1)
        self.assertEqual(session["username"], USER)

    def test_mailboxes_have_roles_counts_and_a_tree(self):
        got = self.jmap.ok("Mailbox/get", {"ids": None})
        roles = {m["role"] for m in got["list"]}
        self.assertTrue({"inbox", "drafts", "sent", "trash", "junk", "archive"} <= roles)
        inbox = next(m for m in got["list"] if m["role"] == "inbox")
        self.assertFalse(inbox["myRights"]["mayDelete"])
        self.assertEqual(self.jmap.ok("Mailbox/get", {"ids": ["M999999", "nope"]})["notFound"],
                         ["M999999", "nope"])
        # Create a parent and a child in one call, the child naming the parent by creation id.
        made = self.jmap.ok("Mailbox/set", {"create": {
            "p": {"name": "Projects"}, "c": {"name": "Rampart", "parentId": "#p"}}})
        parent, child = made["created"]["p"]["id"], made["created"]["c"]["id"]
        got = self.jmap.ok("Mailbox/get", {"ids": [child], "properties": ["name", "parentId"]})
        self.assertEqual(got["list"][0], {"id": child, "name": "Rampart", "parentId": parent})
        imap = self.imap()
        self.assertIn(b'"Projects/Rampart"', b"".join(imap.list()[1]))
        # Errors: a name taken, a parent with a child, a bad property, a stale state.
        again = self.jmap.ok("Mailbox/set", {"create": {"x": {"name": "Projects"}}})
        self.assertEqual(again["notCreated"]["x"]["type"], "alreadyExists")
        refused = self.jmap.ok("Mailbox/set", {"destroy": [parent]})
        self.assertEqual(refused["notDestroyed"][parent]["type"], "mailboxHasChild")
        bad = self.jmap.ok("Mailbox/set", {"update": {child: {"totalEmails": 3}}})
        self.assertEqual(bad["notUpdated"][child]["type"], "invalidProperties")
        self.assertEqual(self.jmap.error("Mailbox/set", {"ifInState": "1", "destroy": [child]}),
                         "stateMismatch")
        # Rename and move to the top; then destroy with its mail.
        renamed = self.jmap.ok("Mailbox/set", {"update": {child: {"name": "Core", "parentId": None}}})
        self.assertIn(child, renamed["updated"])
        self.assertIn(b'"Core"', b"".join(imap.list()[1]))
        query = self.jmap.ok("Mailbox/query", {"filter": {"parentId": None, "name": "core"}})
        self.assertEqual(query["ids"], [child])
        imap.append("Core", None, None, message("in Core").encode())
        refused = self.jmap.ok("Mailbox/set", {"destroy": [child]})
        self.assertEqual(refused["notDestroyed"][child]["type"], "mailboxHasEmail")
        gone = self.jmap.ok("Mailbox/set", {"destroy": [child, parent], "onDestroyRemoveEmails": True})
        self.assertEqual(sorted(gone["destroyed"]), sorted([child, parent]))

    def test_mailbox_changes_follow_imap(self):
        before = self.state("Mailbox")
        imap = self.imap()
        self.assertEqual(imap.create("FromImap")[0], "OK")
        changes = self.jmap.ok("Mailbox/changes", {"sinceState": before})
        self.assertEqual(len(changes["created"]), 1)
        created = changes["created"][0]
        self.assertEqual(self.jmap.ok("Mailbox/get", {"ids": [created]})["list"][0]["name"], "FromImap")
        imap.delete("FromImap")
        changes = self.jmap.ok("Mailbox/changes", {"sinceState": changes["newState"]})
        self.assertEqual(changes["destroyed"], [created])
        self.assertEqual(self.jmap.error("Mailbox/changes", {"sinceState": "999999999"}),
                         "cannotCalculateChanges")

    def test_delivered_mail_is_queried_and_read(self):
        self.deliver(message("Quarterly report", "See the attached report, please.\r\n"))
        email_id = self.find("Quarterly report")
        got = self.jmap.ok("Email/get", {"ids": [email_id], "fetchTextBodyValues": True})["list"][0]
        self.assertEqual(got["subject"], "Quarterly report")
        self.assertEqual(got["from"], [{"name": "Ann Sender", "email": "ann@example.test"}])
        self.assertEqual(got["to"], [{"name": None, "email": USER}])
        self.assertEqual(got["mailboxIds"], {self.mailboxes["inbox"]: True})
        self.assertEqual(got["keywords"], {})
        self.assertEqual(got["sentAt"], "2026-11-23T10:00:00+01:00")
        self.assertEqual(got["preview"], "See the attached report, please.")
        self.assertFalse(got["hasAttachment"])
        part = got["textBody"][0]["partId"]
        self.assertEqual(got["bodyValues"][part]["value"], "See the attached report, please.\r\n")
        # Specific properties, header forms, and the raw headers.
        got = self.jmap.ok("Email/get", {"ids": [email_id], "properties": [
            "header:Subject:asText", "header:From:asAddresses", "headers", "size"]})["list"][0]
        self.assertEqual(got["header:Subject:asText"], "Quarterly report")
        self.assertEqual(got["header:From:asAddresses"][0]["email"], "ann@example.test")
        self.assertIn({"name": "Subject", "value": " Quarterly report"}, got["headers"])
        self.assertNotIn("subject", got)
        self.assertEqual(self.jmap.error("Email/get", {"ids": [email_id], "properties": ["nope"]}),
                         "invalidArguments")

    def test_attachments_and_html(self):
        body = ("--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Caf\xc3\xa9 <b>menu</b></p>\r\n"
                "--b\r\nContent-Type: application/pdf; name=menu.pdf\r\nContent-Disposition: attachment\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n")
        self.deliver(message("Lunch menu", body.encode("latin-1").decode("utf-8"),
                             extra="MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n"))
        email_id = self.find("Lunch menu")
        got = self.jmap.ok("Email/get", {"ids": [email_id], "fetchHTMLBodyValues": True, "properties": [
            "hasAttachment", "attachments", "htmlBody", "textBody", "bodyValues", "preview", "bodyStructure"]})
        got = got["list"][0]
        self.assertTrue(got["hasAttachment"])
        self.assertEqual(got["attachments"][0]["name"], "menu.pdf")
        self.assertEqual(got["attachments"][0]["type"], "application/pdf")
        self.assertEqual(got["htmlBody"][0]["type"], "text/html")
        self.assertEqual(got["textBody"], got["htmlBody"])  # no text/plain: the html stands in
        self.assertIn("Café", got["bodyValues"][got["htmlBody"][0]["partId"]]["value"])
        self.assertEqual(got["preview"], "Café menu")
        self.assertEqual(got["bodyStructure"]["type"], "multipart/mixed")
        self.assertEqual(len(got["bodyStructure"]["subParts"]), 2)

    def test_part_sizes_are_decoded_and_nested_multiparts_keep_their_parts(self):
        # RFC 8621 §4.1.4: a part's size is that of its decoded content (300 bytes here,
        # 400 as base64), and subParts is there for every multipart, however deep, with
        # the default bodyProperties.
        attachment = bytes(range(256)) + bytes(44)
        encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
        body = ("--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
                "--inner\r\nContent-Type: text/plain\r\n\r\nPlain\r\n"
                "--inner\r\nContent-Type: text/html\r\n\r\n<p>Rich</p>\r\n--inner--\r\n"
                "--outer\r\nContent-Type: application/octet-stream; name=data.bin\r\n"
                "Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + encoded + "--outer--\r\n")
        self.deliver(message("Nested parts", body,
                             extra="MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n"))
        email_id = self.find("Nested parts")
        got = self.jmap.ok("Email/get", {"ids": [email_id],
                                         "properties": ["attachments", "bodyStructure"]})["list"][0]
        self.assertEqual(got["attachments"][0]["size"], 300)
        structure = got["bodyStructure"]
        self.assertEqual(structure["type"], "multipart/mixed")
        alternative = structure["subParts"][0]
        self.assertEqual(alternative["type"], "multipart/alternative")
        self.assertEqual([part["type"] for part in alternative["subParts"]], ["text/plain", "text/html"])
        self.assertEqual(structure["subParts"][1]["size"], 300)
        download = self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/"
                                        f"{got['attachments'][0]['blobId']}/data.bin")
        self.assertEqual((download[0], len(download[2])), (200, 300))

    def test_a_damaged_stored_structure_reads_the_same_in_imap_and_jmap(self):
        # The store keeps each message's parsed structure beside its bytes. When that
        # row is damaged, IMAP SEARCH, IMAP FETCH and JMAP all read the message itself.
        subject = "Damaged structure " + uuid.uuid4().hex[:8]
        self.deliver(message(subject, "The zebra crossed.\r\n"))
        email_id = self.find(subject)
        blob_id = self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["blobId"]})["list"][0]["blobId"]
        with sqlite3.connect(os.path.join(self.instance.data, "rampart.db"), timeout=30) as db:
            db.execute("UPDATE blobs SET structure = x'00' WHERE id = ?", (blob_id[1:],))
        got = self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["subject", "from"],
                                         "fetchTextBodyValues": True})["list"][0]
        self.assertEqual(got["subject"], subject)
        self.assertEqual(got["from"], [{"name": "Ann Sender", "email": "ann@example.test"}])
        client = self.imap()
        client.select("INBOX")
        status, found = client.uid("SEARCH", None, "SUBJECT", f'"{subject}"', "BODY", "zebra")
        self.assertEqual(status, "OK")
        uids = found[0].split()
        self.assertEqual(len(uids), 1)
        status, fetched = client.uid("FETCH", uids[0].decode(), "(ENVELOPE)")
        self.assertEqual(status, "OK")
        self.assertIn(subject.encode(), fetched[0])

    def test_threads_join_replies(self):
        root_id = f"{uuid.uuid4()}@example.test"
        self.deliver(message("Lunch plans", message_id=root_id))
        self.deliver(message("Re: Lunch plans", in_reply_to=root_id))
        root, reply = self.find("Lunch plans"), self.find("Re: Lunch plans")
        got = self.jmap.ok("Email/get", {"ids": [root, reply], "properties": ["threadId"]})["list"]
        self.assertEqual(got[0]["threadId"], got[1]["threadId"])
        thread = self.jmap.ok("Thread/get", {"ids": [got[0]["threadId"], "T999999"]})
        self.assertEqual(thread["list"][0]["emailIds"], [root, reply])
        self.assertEqual(thread["notFound"], ["T999999"])
        collapsed = self.jmap.ok("Email/query", {"filter": {"subject": "Lunch plans"},
                                                 "collapseThreads": True})
        self.assertEqual(len(collapsed["ids"]), 1)
        self.assertFalse(collapsed["canCalculateChanges"])

    def test_keywords_set_over_jmap_show_in_imap_and_back(self):
        self.deliver(message("Flag me"))
        email_id = self.find("Flag me")
        before = self.state("Email")
        done = self.jmap.ok("Email/set", {"update": {email_id: {"keywords/$seen": True,
                                                                  "keywords/$label1": True}}})
        self.assertIn(email_id, done["updated"])
        imap = self.imap()
        imap.select("INBOX")
        _, found = imap.uid("SEARCH", None, "SUBJECT", '"Flag me"')
        uid = found[0].split()[-1]
        _, flags = imap.uid("FETCH", uid, "(FLAGS)")
        self.assertIn(b"\\Seen", flags[0])
        self.assertIn(b"$label1", flags[0])
        changes = self.jmap.ok("Email/changes", {"sinceState": before})
        self.assertEqual(changes["updated"], [email_id])
        # IMAP sets \Flagged: JMAP sees $flagged, and the change.
        imap.uid("STORE", uid, "+FLAGS", "(\\Flagged)")
        changes = self.jmap.ok("Email/changes", {"sinceState": changes["newState"]})
        self.assertEqual(changes["updated"], [email_id])
        keywords = self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["keywords"]})["list"][0]["keywords"]
        self.assertEqual(keywords, {"$seen": True, "$label1": True, "$flagged": True})
        # A whole replacement, and an invalid keyword.
        self.jmap.ok("Email/set", {"update": {email_id: {"keywords": {"$answered": True}}}})
        _, flags = imap.uid("FETCH", uid, "(FLAGS)")
        self.assertIn(b"\\Answered", flags[0])
        self.assertNotIn(b"\\Seen", flags[0])
        bad = self.jmap.ok("Email/set", {"update": {email_id: {"keywords/a(b": True}}})
        self.assertEqual(bad["notUpdated"][email_id]["type"], "invalidProperties")
        query = self.jmap.ok("Email/query", {"filter": {"hasKeyword": "$answered", "subject": "Flag me"}})
        self.assertEqual(query["ids"], [email_id])

    def test_move_keeps_the_id_and_imap_sees_it(self):
        self.deliver(message("Move me"))
        email_id = self.find("Move me")
        before = self.state("Email")
        archive = self.mailboxes["archive"]
        moved = self.jmap.ok("Email/set", {"update": {email_id: {"mailboxIds": {archive: True}}}})
        self.assertIn(email_id, moved["updated"])
        got = self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["mailboxIds"]})["list"][0]
        self.assertEqual(got["mailboxIds"], {archive: True})
        changes = self.jmap.ok("Email/changes", {"sinceState": before})
        self.assertEqual((changes["created"], changes["updated"], changes["destroyed"]), ([], [email_id], []))
        imap = self.imap()
        imap.select("Archive")
        _, found = imap.uid("SEARCH", None, "SUBJECT", '"Move me"')
        self.assertEqual(len(found[0].split()), 1)
        two = self.jmap.ok("Email/set", {"update": {email_id: {f"mailboxIds/{self.mailboxes['inbox']}": True}}})
        self.assertEqual(two["notUpdated"][email_id]["type"], "invalidProperties")

    def test_destroy_and_imap_expunge_show_as_destroyed(self):
        self.deliver(message("Destroy me"))
        self.deliver(message("Expunge me"))
        destroy_id, expunge_id = self.find("Destroy me"), self.find("Expunge me")
        before = self.state("Email")
        done = self.jmap.ok("Email/set", {"destroy": [destroy_id, "E999999"]})
        self.assertEqual(done["destroyed"], [destroy_id])
        self.assertEqual(done["notDestroyed"]["E999999"]["type"], "notFound")
        imap = self.imap()
        imap.select("INBOX")
        _, found = imap.uid("SEARCH", None, "SUBJECT", '"Destroy me"')
        self.assertEqual(found, [b""])
        _, found = imap.uid("SEARCH", None, "SUBJECT", '"Expunge me"')
        imap.uid("STORE", found[0], "+FLAGS", "(\\Deleted)")
        imap.expunge()
        changes = self.jmap.ok("Email/changes", {"sinceState": before})
        self.assertEqual(sorted(changes["destroyed"]), sorted([destroy_id, expunge_id]))
        self.assertEqual(self.jmap.ok("Email/get", {"ids": [destroy_id]})["notFound"], [destroy_id])

    def test_changes_page_with_max_changes(self):
        before = self.state("Email")
        for n in range(3):
            self.deliver(message(f"Paged {n}"))
        first = self.jmap.ok("Email/changes", {"sinceState": before, "maxChanges": 2})
        self.assertTrue(first["hasMoreChanges"])
        self.assertLessEqual(len(first["created"]), 2)
        rest = self.jmap.ok("Email/changes", {"sinceState": first["newState"]})
        self.assertFalse(rest["hasMoreChanges"])
        self.assertEqual(len(first["created"]) + len(rest["created"]), 3)
        threads = self.jmap.ok("Thread/changes", {"sinceState": before})
        self.assertEqual(len(threads["created"]), 3)

    def test_query_sort_window_and_query_changes(self):
        for n in range(4):
            self.deliver(message(f"Window {n}", extra=""))
        query = {"filter": {"subject": "Window"}, "sort": [{"property": "subject", "isAscending": True}]}
        full = self.jmap.ok("Email/query", {**query, "calculateTotal": True})
        self.assertEqual(full["total"], 4)
        subjects = [e["subject"] for e in self.jmap.ok("Email/get", {"ids": full["ids"], "properties": ["subject"]})["list"]]
        self.assertEqual(subjects, [f"Window {n}" for n in range(4)])
        page = self.jmap.ok("Email/query", {**query, "position": 1, "limit": 2})
        self.assertEqual(page["ids"], full["ids"][1:3])
        anchored = self.jmap.ok("Email/query", {**query, "anchor": full["ids"][2], "anchorOffset": -1, "limit": 1})
        self.assertEqual(anchored["ids"], [full["ids"][1]])
        self.assertEqual(self.jmap.error("Email/query", {**query, "anchor": "E999999"}), "anchorNotFound")
        self.assertEqual(self.jmap.error("Email/query", {"sort": [{"property": "nope"}]}), "unsupportedSort")
        self.assertEqual(self.jmap.error("Email/query", {"filter": {"nope": 1}}), "unsupportedFilter")
        # A new match and a destroyed one: queryChanges says where.
        self.jmap.ok("Email/set", {"destroy": [full["ids"][0]]})
        self.deliver(message("Window 9"))
        changes = self.jmap.ok("Email/queryChanges", {**query, "sinceQueryState": full["queryState"]})
        self.assertIn(full["ids"][0], changes["removed"])
        self.assertEqual([a["index"] for a in changes["added"]], [3])
        after = self.jmap.ok("Email/query", query)
        self.assertEqual(changes["newQueryState"], after["queryState"])
        self.assertEqual(after["ids"][3], changes["added"][0]["id"])

    def test_back_references_chain_query_and_get(self):
        self.deliver(message("Chained"))
        status, body = self.jmap.request([
            ["Email/query", {"accountId": self.jmap.account, "filter": {"subject": "Chained"}}, "q"],
            ["Email/get", {"accountId": self.jmap.account, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                           "properties": ["subject", "threadId"]}, "g"],
            ["Thread/get", {"accountId": self.jmap.account, "#ids": {"resultOf": "g", "name": "Email/get", "path": "/list/*/threadId"}}, "t"],
        ])
        self.assertEqual(status, 200)
        responses = body["methodResponses"]
        self.assertEqual(responses[1][1]["list"][0]["subject"], "Chained")
        self.assertEqual(len(responses[2][1]["list"]), 1)

    def test_search_snippets(self):
        self.deliver(message("Budget <draft>", "The budget for next year is attached.\r\n"))
        email_id = self.find("Budget <draft>")
        got = self.jmap.ok("SearchSnippet/get", {"filter": {"text": "budget"}, "emailIds": [email_id, "E999999"]})
        snippet = got["list"][0]
        self.assertEqual(snippet["subject"], "<mark>Budget</mark> &lt;draft&gt;")
        self.assertIn("<mark>budget</mark>", snippet["preview"])
        self.assertEqual(got["notFound"], ["E999999"])

    def test_method_errors(self):
        self.assertEqual(self.jmap.call("Email/get", {"accountId": "A999", "ids": []}, account=False)[1]["type"],
                         "accountNotFound")
        self.assertEqual(self.jmap.error("Email/get", {"ids": "E1"}), "invalidArguments")
        self.assertEqual(self.jmap.error("Email/changes", {"sinceState": "x"}), "invalidArguments")
        self.assertEqual(self.jmap.error("Email/changes", {"sinceState": "999999999"}), "cannotCalculateChanges")
        self.assertEqual(self.jmap.error("Email/set", {"ifInState": "0", "destroy": []}), "stateMismatch")
        self.assertEqual(self.jmap.error("Email/copy", {"fromAccountId": "A999", "create": {}}), "fromAccountNotFound")
        self.assertEqual(self.jmap.error("Email/nope", {}), "unknownMethod")
        status, body = self.jmap.request([["Email/get", {"accountId": self.jmap.account, "ids": []}, "c"]],
                                         using=["urn:ietf:params:jmap:core"])
        self.assertEqual(body["methodResponses"][0][1]["type"], "unknownMethod")

    def test_reads_and_changes_are_audited(self):
        self.deliver(message("Audited"))
        email_id = self.find("Audited")
        self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["subject"]})
        self.jmap.ok("Email/set", {"destroy": [email_id]})
        def records():
            done = self.instance.cli("audit", "--json", "--account", USER)
            self.assertEqual(done.returncode, 0, done.stderr)
            return [r for r in json.loads(done.stdout) if r["protocol"] == "jmap" and email_id in r["detail"]]
        end = time.monotonic() + 20
        found = records()
        while not any(r["kind"] == "expunge" for r in found) and time.monotonic() < end:
            time.sleep(0.1)
            found = records()
        # find() read the subject too: reads, then the one expunge.
        kinds = [(r["kind"], r["mailbox"], r["address"]) for r in found]
        self.assertEqual(kinds[-1], ("expunge", "INBOX", "127.0.0.1"))
        self.assertEqual(set(kinds[:-1]), {("read", "INBOX", "127.0.0.1")})

    def test_create_an_email_with_an_uploaded_attachment(self):
        pdf = b"%PDF-1.4 fake report \x00\xff"
        status, _, body = self.jmap.raw("POST", f"/jmap/upload/{self.jmap.account}/", pdf, "application/pdf")
        self.assertEqual(status, 201)
        upload = json.loads(body)
        self.assertEqual((upload["type"], upload["size"]), ("application/pdf", len(pdf)))
        drafts = self.mailboxes["drafts"]
        made = self.jmap.ok("Email/set", {"create": {"d": {
            "mailboxIds": {drafts: True}, "keywords": {"$draft": True, "$seen": True},
            "from": [{"name": "Jules Ré", "email": USER}], "to": [{"email": "ann@example.test"}],
            "subject": "Le rapport — final", "sentAt": "2026-11-23T09:30:00+01:00",
            "bodyValues": {"t": {"value": "Voilà le rapport.\n"}, "h": {"value": "<p>Voilà le <b>rapport</b>.</p>"}},
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "htmlBody": [{"partId": "h", "type": "text/html"}],
            "attachments": [{"blobId": upload["blobId"], "type": "application/pdf", "name": "rapport été.pdf"}]}}})
        created = made["created"]["d"]
        got = self.jmap.ok("Email/get", {"ids": [created["id"]], "fetchAllBodyValues": True, "properties": [
            "subject", "from", "to", "sentAt", "keywords", "mailboxIds", "attachments", "textBody",
            "htmlBody", "bodyValues", "size", "blobId"]})["list"][0]
        self.assertEqual(got["subject"], "Le rapport — final")
        self.assertEqual(got["from"], [{"name": "Jules Ré", "email": USER}])
        self.assertEqual(got["sentAt"], "2026-11-23T09:30:00+01:00")
        self.assertEqual(got["keywords"], {"$draft": True, "$seen": True})
        self.assertEqual(got["size"], created["size"])
        self.assertEqual(got["attachments"][0]["name"], "rapport été.pdf")
        self.assertEqual(got["bodyValues"][got["textBody"][0]["partId"]]["value"], "Voilà le rapport.\r\n")
        self.assertEqual(got["htmlBody"][0]["type"], "text/html")
        # The attachment downloads as it was uploaded; the whole message as IMAP has it.
        part_blob = got["attachments"][0]["blobId"]
        status, headers, body = self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/{part_blob}/r.pdf?accept=application/pdf")
        self.assertEqual((status, body), (200, pdf))
        self.assertEqual(headers["Content-Type"], "application/pdf")
        self.assertIn("attachment", headers["Content-Disposition"])
        self.assertEqual(headers["Content-Security-Policy"], "sandbox")
        imap = self.imap()
        imap.select("Drafts")
        _, found = imap.uid("SEARCH", None, "HEADER", "Subject", "rapport")
        _, data = imap.uid("FETCH", found[0].split()[-1], "(FLAGS BODY.PEEK[])")
        self.assertIn(b"\\Draft", data[0][0])
        status, _, whole = self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/{got['blobId']}/m.eml")
        self.assertEqual((status, whole), (200, data[0][1]))
        # What cannot be downloaded: another account's path, a made-up blob, a bad id.
        self.assertEqual(self.jmap.raw("GET", f"/jmap/download/A999/{part_blob}/x")[0], 404)
        self.assertEqual(self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/B{'0' * 64}/x")[0], 404)
        self.assertEqual(self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/nope/x")[0], 404)
        self.assertEqual(self.jmap.raw("POST", "/jmap/upload/A999/", b"x")[0], 404)

    def test_create_refuses_what_it_cannot_write(self):
        inbox = self.mailboxes["inbox"]
        base = {"mailboxIds": {inbox: True}, "bodyValues": {"t": {"value": "x"}},
                "textBody": [{"partId": "t"}]}
        cases = {
            "inject": ({"subject": "a\r\nBcc: victim@example.test"}, "invalidProperties"),
            "address": ({"to": [{"email": "not an address"}]}, "invalidProperties"),
            "blob": ({"attachments": [{"blobId": "B" + "1" * 64}]}, "blobNotFound"),
            "two": ({"mailboxIds": {inbox: True, self.mailboxes["archive"]: True}}, "invalidProperties"),
            "server-set": ({"id": "E1"}, "invalidProperties"),
            "unused-value": ({"bodyValues": {"t": {"value": "x"}, "u": {"value": "y"}}}, "invalidProperties"),
            "content-header": ({"header:Content-Type": "text/html"}, "invalidProperties"),
        }
        made = self.jmap.ok("Email/set", {"create": {name: {**base, **extra} for name, (extra, _) in cases.items()}})
        for name, (_, kind) in cases.items():
            self.assertEqual(made["notCreated"][name]["type"], kind, name)
        self.assertIsNone(made["created"])

    def test_import_and_parse_uploaded_messages(self):
        root_id = f"{uuid.uuid4()}@example.test"
        self.deliver(message("Imported thread root", message_id=root_id))
        text = message("Re: Imported thread root", "Imported body.\r\n", in_reply_to=root_id).encode()
        status, _, body = self.jmap.raw("POST", f"/jmap/upload/{self.jmap.account}/", text, "message/rfc822")
        blob = json.loads(body)["blobId"]
        parsed = self.jmap.ok("Email/parse", {"blobIds": [blob, "B" + "2" * 64], "fetchTextBodyValues": True})
        email = parsed["parsed"][blob]
        self.assertEqual(email["subject"], "Re: Imported thread root")
        self.assertIsNone(email.get("id", None))
        self.assertEqual(parsed["notFound"], ["B" + "2" * 64])
        archive = self.mailboxes["archive"]
        imported = self.jmap.ok("Email/import", {"emails": {"i": {
            "blobId": blob, "mailboxIds": {archive: True}, "keywords": {"$seen": True},
            "receivedAt": "2026-01-02T03:04:05Z"}}})
        created = imported["created"]["i"]
        got = self.jmap.ok("Email/get", {"ids": [created["id"]], "properties": ["receivedAt", "threadId", "mailboxIds"]})["list"][0]
        self.assertEqual(got["receivedAt"], "2026-01-02T03:04:05Z")
        self.assertEqual(got["mailboxIds"], {archive: True})
        root = self.find("Imported thread root")
        root_thread = self.jmap.ok("Email/get", {"ids": [root], "properties": ["threadId"]})["list"][0]["threadId"]
        self.assertEqual(got["threadId"], root_thread)
        bad = self.jmap.ok("Email/import", {"emails": {"x": {"blobId": "B" + "3" * 64, "mailboxIds": {archive: True}}}})
        self.assertEqual(bad["notCreated"]["x"]["type"], "blobNotFound")

    def test_well_known_leads_to_the_session(self):
        self.jmap.connection.request("GET", "/.well-known/jmap")
        response = self.jmap.connection.getresponse()
        response.read()
        self.assertEqual(response.status, 307)
        self.assertEqual(response.getheader("Location"), "/jmap/session")

    def events(self, query):
        """An EventSource response; read it with next_event."""
        connection = http.client.HTTPConnection("127.0.0.1", self.instance.ports["http"], timeout=30)
        self.addCleanup(connection.close)
        connection.request("GET", "/jmap/eventsource/?" + query, headers=self.jmap.headers)
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type"), "text/event-stream")
        return response

    def next_event(self, response):
        kind, data = None, None
        while True:
            line = response.readline().decode()
            self.assertTrue(line, "the stream ended")
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "\n" and kind:
                return kind, data

    def test_event_source_wakes_on_delivery_and_imap_changes(self):
        stream = self.events("types=*&closeafter=no&ping=0")
        kind, first = self.next_event(stream)
        self.assertEqual(kind, "state")
        states = first["changed"][self.jmap.account]
        self.assertEqual(set(states), {"Mailbox", "Email", "Thread", "Identity", "EmailSubmission",
                                       "VacationResponse"})
        self.assertEqual(states["Email"], self.state("Email"))
        self.deliver(message("Wake the stream"))
        kind, change = self.next_event(stream)
        self.assertEqual(change["@type"], "StateChange")
        delivered = change["changed"][self.jmap.account]["Email"]
        self.assertGreater(int(delivered), int(states["Email"]))
        # The new state leads to the new Email.
        created = self.jmap.ok("Email/changes", {"sinceState": states["Email"]})["created"]
        self.assertIn(self.find("Wake the stream"), created)
        imap = self.imap()
        imap.create("WakeFolder")
        kind, change = self.next_event(stream)
        self.assertGreater(int(change["changed"][self.jmap.account]["Mailbox"]), int(delivered))

    def test_event_source_closeafter_state_and_pings(self):
        stream = self.events("types=Email&closeafter=state&ping=1")
        self.assertEqual(self.next_event(stream)[0], "ping")
        self.deliver(message("Close the stream"))
        while (event := self.next_event(stream))[0] == "ping":
            pass
        self.assertEqual(list(event[1]["changed"][self.jmap.account]), ["Email"])
        self.assertEqual(stream.read(), b"")  # and then it ends

    def test_email_created_over_jmap_wakes_imap_idle(self):
        with socket.create_connection(("127.0.0.1", self.instance.ports["imap"]), timeout=30) as sock:
            lines = sock.makefile("rb")
            lines.readline()
            sock.sendall(f"a LOGIN {USER} {PASSWORD}\r\nb SELECT INBOX\r\n".encode())
            while not lines.readline().startswith(b"b OK"):
                pass
            sock.sendall(b"c IDLE\r\n")
            self.assertTrue(lines.readline().startswith(b"+"))
            self.jmap.ok("Email/set", {"create": {"n": {
                "mailboxIds": {self.mailboxes["inbox"]: True}, "subject": "Seen by IDLE",
                "bodyValues": {"b": {"value": "hi"}}, "textBody": [{"partId": "b"}]}}})
            line = lines.readline()
            self.assertRegex(line, rb"^\* \d+ EXISTS")
            sock.sendall(b"DONE\r\nd LOGOUT\r\n")

    def test_identities_are_addresses_the_account_owns(self):
        got = self.jmap.ok("Identity/get", {"ids": None})
        self.assertEqual(got["list"][0]["email"], USER)
        before = got["state"]
        made = self.jmap.ok("Identity/set", {"create": {
            "work": {"name": "Jules at work", "email": "jules+work@example.test", "textSignature": "-- J"},
            "theirs": {"email": OTHER}, "nobody": {"email": "nobody@elsewhere.test"}}})
        work = made["created"]["work"]["id"]
        self.assertEqual(made["notCreated"]["theirs"]["type"], "forbiddenFrom")
        self.assertEqual(made["notCreated"]["nobody"]["type"], "forbiddenFrom")
        changed = self.jmap.ok("Identity/set", {"update": {work: {"name": "Jules"}}})
        self.assertIn(work, changed["updated"])
        refused = self.jmap.ok("Identity/set", {"update": {work: {"email": "jules@example.test"}}})
        self.assertEqual(refused["notUpdated"][work]["type"], "invalidProperties")
        changes = self.jmap.ok("Identity/changes", {"sinceState": before})
        self.assertEqual((changes["created"], changes["updated"]), ([work], []))
        got = self.jmap.ok("Identity/get", {"ids": [work], "properties": ["name", "textSignature"]})
        self.assertEqual(got["list"][0], {"id": work, "name": "Jules", "textSignature": "-- J"})
        self.assertEqual(self.jmap.ok("Identity/set", {"destroy": [work]})["destroyed"], [work])
        changes = self.jmap.ok("Identity/changes", {"sinceState": before})
        self.assertEqual((changes["created"], changes["destroyed"]), ([], []))  # made and gone
        self.assertEqual(self.jmap.ok("Identity/changes", {"sinceState": changes["oldState"]})["newState"],
                         changes["newState"])

    def test_submission_delivers_locally_queues_remote_and_files_the_draft(self):
        identity = self.jmap.ok("Identity/get", {"ids": None})["list"][0]["id"]
        drafts, sent = self.mailboxes["drafts"], self.mailboxes["sent"]
        draft = self.jmap.ok("Email/set", {"create": {"d": {
            "mailboxIds": {drafts: True}, "keywords": {"$draft": True},
            "from": [{"email": USER}], "to": [{"email": OTHER}, {"email": "far@remote.test"}],
            "bcc": [{"email": "hidden@remote.test"}], "subject": "Submitted over JMAP",
            "bodyValues": {"b": {"value": "Sent through EmailSubmission."}}, "textBody": [{"partId": "b"}]}}})
        email_id = draft["created"]["d"]["id"]
        status, body = self.jmap.request([["EmailSubmission/set", {
            "accountId": self.jmap.account,
            "create": {"s": {"identityId": identity, "emailId": email_id}},
            "onSuccessUpdateEmail": {"#s": {f"mailboxIds/{drafts}": None, f"mailboxIds/{sent}": True,
                                            "keywords/$draft": None}}}, "c"]])
        self.assertEqual(status, 200)
        (name, result, call), (implied, email_result, implied_call) = body["methodResponses"]
        self.assertEqual((name, implied, call, implied_call), ("EmailSubmission/set", "Email/set", "c", "c"))
        submission = result["created"]["s"]
        self.assertEqual(submission["undoStatus"], "final")
        self.assertIn(email_id, email_result["updated"])
        got = self.jmap.ok("Email/get", {"ids": [email_id], "properties": ["mailboxIds", "keywords"]})["list"][0]
        self.assertEqual((got["mailboxIds"], got["keywords"]), ({sent: True}, {}))
        # The local recipient has it, without the Bcc; the remote ones are queued.
        other = Jmap(self.instance.ports["http"], OTHER, PASSWORD)
        self.addCleanup(other.close)
        ids = other.ok("Email/query", {"filter": {"subject": "Submitted over JMAP"}})["ids"]
        self.assertEqual(len(ids), 1)
        theirs = other.ok("Email/get", {"ids": ids, "properties": ["bcc", "header:Bcc", "from"]})["list"][0]
        self.assertIsNone(theirs["bcc"])
        self.assertEqual(theirs["from"], [{"name": None, "email": USER}])
        queue = self.instance.cli("queue", "list").stdout
        self.assertIn("far@remote.test", queue)
        self.assertIn("hidden@remote.test", queue)
        self.assertNotIn(OTHER, queue)
        got = self.jmap.ok("EmailSubmission/get", {"ids": [submission["id"]]})["list"][0]
        self.assertEqual(got["emailId"], email_id)
        self.assertEqual(got["deliveryStatus"][OTHER]["delivered"], "yes")
        self.assertEqual(got["deliveryStatus"]["far@remote.test"]["delivered"], "queued")
        self.assertEqual({r["email"] for r in got["envelope"]["rcptTo"]},
                         {OTHER, "far@remote.test", "hidden@remote.test"})
        query = self.jmap.ok("EmailSubmission/query", {"filter": {"emailIds": [email_id]}})
        self.assertEqual(query["ids"], [submission["id"]])
        cancel = self.jmap.ok("EmailSubmission/set", {"update": {submission["id"]: {"undoStatus": "canceled"}}})
        self.assertEqual(cancel["notUpdated"][submission["id"]]["type"], "cannotUnsend")

    def test_submission_refusals(self):
        identity = self.jmap.ok("Identity/get", {"ids": None})["list"][0]["id"]
        inbox = self.mailboxes["inbox"]
        made = self.jmap.ok("Email/set", {"create": {
            "forged": {"mailboxIds": {inbox: True}, "from": [{"email": OTHER}], "to": [{"email": OTHER}],
                       "bodyValues": {"b": {"value": "x"}}, "textBody": [{"partId": "b"}]},
            "nobody": {"mailboxIds": {inbox: True}, "from": [{"email": USER}],
                       "bodyValues": {"b": {"value": "x"}}, "textBody": [{"partId": "b"}]},
            "unknown": {"mailboxIds": {inbox: True}, "from": [{"email": USER}], "to": [{"email": "ghost@example.test"}],
                        "bodyValues": {"b": {"value": "x"}}, "textBody": [{"partId": "b"}]}}})["created"]
        result = self.jmap.ok("EmailSubmission/set", {"create": {
            "forged": {"identityId": identity, "emailId": made["forged"]["id"]},
            "nobody": {"identityId": identity, "emailId": made["nobody"]["id"]},
            "unknown": {"identityId": identity, "emailId": made["unknown"]["id"]},
            "missing": {"identityId": identity, "emailId": "E999999"},
            "envelope": {"identityId": identity, "emailId": made["nobody"]["id"],
                         "envelope": {"mailFrom": {"email": OTHER}, "rcptTo": [{"email": OTHER}]}},
            "later": {"identityId": identity, "emailId": made["nobody"]["id"], "sendAt": "2030-01-01T00:00:00Z"}}})
        kinds = {key: value["type"] for key, value in result["notCreated"].items()}
        self.assertEqual(kinds, {"forged": "forbiddenFrom", "nobody": "noRecipients",
                                 "unknown": "invalidRecipients", "missing": "emailNotFound",
                                 "envelope": "forbiddenMailFrom", "later": "invalidProperties"})

    def submit(self, **emails):
        """EmailSubmission/set of each named Email id, without an envelope."""
        identity = self.jmap.ok("Identity/get", {"ids": None})["list"][0]["id"]
        return self.jmap.ok("EmailSubmission/set", {"create": {
            name: {"identityId": identity, "emailId": email_id} for name, email_id in emails.items()}})

    def test_submission_refuses_a_foreign_sender_or_a_second_from(self):
        drafts = self.mailboxes["drafts"]
        made = self.jmap.ok("Email/set", {"create": {"d": {
            "mailboxIds": {drafts: True}, "from": [{"email": USER}], "sender": [{"email": OTHER}],
            "to": [{"email": OTHER}], "subject": "Spoofed Sender",
            "bodyValues": {"b": {"value": "x"}}, "textBody": [{"partId": "b"}]}}})
        with_sender = made["created"]["d"]["id"]
        # Email/set makes one From field; a second one comes in a raw message.
        raw = (f"From: {USER}\r\nFrom: {OTHER}\r\nTo: {OTHER}\r\nSubject: Spoofed second From\r\n"
               f"Message-ID: <{uuid.uuid4()}@example.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\nx\r\n")
        status, _, body = self.jmap.raw("POST", f"/jmap/upload/{self.jmap.account}/", raw.encode(), "message/rfc822")
        self.assertEqual(status, 201)
        imported = self.jmap.ok("Email/import", {"emails": {"i": {
            "blobId": json.loads(body)["blobId"], "mailboxIds": {drafts: True}}}})
        two_from = imported["created"]["i"]["id"]
        result = self.submit(sender=with_sender, two=two_from)
        self.assertFalse(result["created"])
        self.assertEqual(result["notCreated"]["sender"]["type"], "forbiddenFrom")
        self.assertIn(result["notCreated"]["two"]["type"], ("invalidEmail", "forbiddenFrom"))
        other = Jmap(self.instance.ports["http"], OTHER, PASSWORD)
        self.addCleanup(other.close)
        self.assertEqual(other.ok("Email/query", {"filter": {"subject": "Spoofed"}})["ids"], [])

    def audit_records(self, kind, account=USER):
        done = self.instance.cli("audit", "--json", "--kind", kind, "--account", account, "--limit", "100000")
        self.assertEqual(done.returncode, 0, done.stderr)
        return [r for r in json.loads(done.stdout) if r["protocol"] == "jmap"]

    def wait_for_audit(self, kind, enough, account=USER):
        """The jmap records of `kind` for `account` once `enough` of them holds."""
        end = time.monotonic() + 20
        while not enough(found := self.audit_records(kind, account)):
            if time.monotonic() > end:
                self.fail(f"no such {kind} record; the last ones: {found[-5:]}")
            time.sleep(0.1)
        return found

    def test_parse_snippets_and_downloads_of_mail_are_audited_reads(self):
        subjects = ["Parsed sideways", "Snippet sideways", "Downloaded sideways", "Sideways marker"]
        for subject in subjects:
            self.deliver(message(subject, "Read sideways.\r\n"))
        ids = [self.find(subject) for subject in subjects[:3]]
        blobs = [e["blobId"] for e in self.jmap.ok("Email/get", {"ids": ids, "properties": ["blobId"]})["list"]]
        # The trail is written in order: once the marker's read is there, so is all before.
        marker = self.find("Sideways marker")
        self.wait_for_audit("read", lambda records: any(marker in re.findall(r"\w+", r["detail"]) for r in records))
        actions = {
            "parse": lambda: self.jmap.ok("Email/parse", {"blobIds": [blobs[0]]}),
            "snippet": lambda: self.jmap.ok("SearchSnippet/get", {"filter": {"text": "sideways"},
                                                                  "emailIds": [ids[1]]}),
            "download": lambda: self.jmap.raw("GET", f"/jmap/download/{self.jmap.account}/{blobs[2]}/m.eml"),
        }
        for (word, action), email_id, blob in zip(actions.items(), ids, blobs):
            def about(record):  # a read of this message, in its mailbox
                words = re.findall(r"\w+", record["detail"])
                return record["mailbox"] == "INBOX" and (email_id in words or blob in words or
                                                         word in record["detail"].lower())
            before = len([r for r in self.audit_records("read") if about(r)])
            action()
            with self.subTest(word):
                self.wait_for_audit("read", lambda records: len([r for r in records if about(r)]) > before)

    def test_local_delivery_by_submission_is_audited(self):
        before = len(self.audit_records("delivery", OTHER))
        made = self.jmap.ok("Email/set", {"create": {"d": {
            "mailboxIds": {self.mailboxes["drafts"]: True}, "from": [{"email": USER}],
            "to": [{"email": OTHER}], "subject": "Audited submission",
            "bodyValues": {"b": {"value": "x"}}, "textBody": [{"partId": "b"}]}}})
        self.assertIn("s", self.submit(s=made["created"]["d"]["id"])["created"])
        self.wait_for_audit("delivery", lambda records: len(records) > before, OTHER)

    def test_vacation_response_answers_once_and_not_lists(self):
        got = self.jmap.ok("VacationResponse/get", {"ids": None})["list"]
        self.assertEqual(got, [{"id": "singleton", "isEnabled": False, "fromDate": None, "toDate": None,
                                "subject": None, "textBody": None, "htmlBody": None}])
        refused = self.jmap.ok("VacationResponse/set", {"create": {"x": {}}, "destroy": ["singleton"]})
        self.assertEqual(refused["notCreated"]["x"]["type"], "singleton")
        self.assertEqual(refused["notDestroyed"]["singleton"]["type"], "singleton")
        bad = self.jmap.ok("VacationResponse/set", {"update": {"singleton": {"fromDate": "soon"}}})
        self.assertEqual(bad["notUpdated"]["singleton"]["type"], "invalidProperties")
        done = self.jmap.ok("VacationResponse/set", {"update": {"singleton": {
            "isEnabled": True, "fromDate": "2020-01-01T00:00:00Z", "subject": "Away until Monday",
            "textBody": "Back on Monday — Jules."}}})
        self.assertIn("singleton", done["updated"])
        self.addCleanup(self.jmap.ok, "VacationResponse/set", {"update": {"singleton": {"isEnabled": False}}})
        got = self.jmap.ok("VacationResponse/get", {"ids": ["singleton"], "properties": ["isEnabled", "fromDate"]})
        self.assertEqual(got["list"], [{"id": "singleton", "isEnabled": True, "fromDate": "2020-01-01T00:00:00Z"}])
        # A local sender gets the answer in its INBOX, once, however often it writes.
        other = Jmap(self.instance.ports["http"], OTHER, PASSWORD)
        self.addCleanup(other.close)
        for n in range(2):
            self.deliver(message(f"Are you there {n}"), sender=OTHER)
        self.deliver(message("Newsletter", extra="List-Id: <news.example.test>\r\n"), sender="news@remote.test")
        self.deliver(message("Robot", extra="Auto-Submitted: auto-generated\r\n"), sender="robot@remote.test")
        self.deliver(message("From afar"), sender="carol@remote.test")
        # Sent to someone else, with this account as a Bcc: no answer.
        self.deliver(message("Blind copy").replace(f"To: {USER}", "To: team@remote.test"),
                     sender="dave@remote.test")
        answers = other.ok("Email/query", {"filter": {"subject": "Away until Monday"}})["ids"]
        self.assertEqual(len(answers), 1)
        answer = other.ok("Email/get", {"ids": answers, "fetchTextBodyValues": True, "properties": [
            "from", "header:Auto-Submitted:asText", "inReplyTo", "bodyValues", "textBody"]})["list"][0]
        self.assertEqual(answer["from"], [{"name": None, "email": USER}])
        self.assertEqual(answer["header:Auto-Submitted:asText"], "auto-replied")
        self.assertIsNotNone(answer["inReplyTo"])
        self.assertIn("Back on Monday — Jules.", answer["bodyValues"][answer["textBody"][0]["partId"]]["value"])
        # Remote senders are answered through the queue from the null sender; lists and robots not.
        queue = self.instance.cli("queue", "list").stdout
        self.assertIn("carol@remote.test", queue)
        self.assertNotIn("news@remote.test", queue)
        self.assertNotIn("robot@remote.test", queue)
        self.assertNotIn("dave@remote.test", queue)

    def test_websocket_requests_and_push_with_the_ws_client(self):
        script = os.path.join(os.path.dirname(__file__), "node", "jmap_ws.mjs")
        url = f"ws://127.0.0.1:{self.instance.ports['http']}/jmap/ws"
        client = subprocess.Popen(["node", script, url, USER, PASSWORD], stdout=subprocess.PIPE, text=True)
        self.addCleanup(client.stdout.close)
        self.addCleanup(client.kill)
        lines = []
        for line in client.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                self.deliver(message("Pushed over the socket"))
        client.wait(timeout=30)
        messages = [json.loads(line) for line in lines if line != "ready"]
        self.assertEqual(messages[0], {"@type": "open", "protocol": "jmap"})
        first = next(m for m in messages if m.get("requestId") == "first")
        self.assertEqual(first["@type"], "Response")
        self.assertEqual(first["methodResponses"], [["Core/echo", {"hello": "world"}, "e"]])
        error = next(m for m in messages if m["@type"] == "RequestError")
        self.assertEqual(error["type"], "urn:ietf:params:jmap:error:notJSON")
        change = messages[-1]
        self.assertEqual(change["@type"], "StateChange")
        self.assertEqual(set(change["changed"][self.jmap.account]), {"Email", "Mailbox"})
        self.assertEqual(change["pushState"], change["changed"][self.jmap.account]["Email"])
        self.assertEqual(client.returncode, 0)
        session = self.jmap.session["capabilities"]["urn:ietf:params:jmap:websocket"]
        self.assertEqual(session, {"url": "wss://mail.test/jmap/ws", "supportsPush": True})

    def test_websocket_refuses_a_plain_request_and_bad_frames(self):
        self.assertEqual(self.jmap.raw("GET", "/jmap/ws")[0], 400)
        key = base64.b64encode(b"0123456789abcdef").decode()
        with socket.create_connection(("127.0.0.1", self.instance.ports["http"]), timeout=30) as sock:
            sock.sendall((f"GET /jmap/ws HTTP/1.1\r\nHost: x\r\n{self.auth_header()}Upgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
                          "Sec-WebSocket-Protocol: jmap\r\n\r\n").encode())
            reader = sock.makefile("rb")
            self.assertTrue(reader.readline().startswith(b"HTTP/1.1 101"))
            while reader.readline() != b"\r\n":
                pass
            sock.sendall(b"\x81\x02hi")  # not masked: a protocol error
            self.assertEqual(reader.read(4), b"\x88\x02\x03\xea")  # close 1002
            self.assertEqual(reader.read(), b"")

    def auth_header(self):
        return f"Authorization: {self.jmap.headers['Authorization']}\r\n"

    def test_an_account_sees_only_its_own_mail(self):
        self.deliver(message("Private to mo"), to=OTHER)
        other = Jmap(self.instance.ports["http"], OTHER, PASSWORD)
        self.addCleanup(other.close)
        theirs = other.ok("Email/query", {"filter": {"subject": "Private to mo"}})["ids"]
        self.assertEqual(len(theirs), 1)
        self.assertEqual(self.jmap.ok("Email/get", {"ids": theirs})["notFound"], theirs)
        done = self.jmap.ok("Email/set", {"destroy": theirs, "update": {theirs[0]: {"keywords": {}}}})
        self.assertEqual(done["notDestroyed"][theirs[0]]["type"], "notFound")
        self.assertEqual(done["notUpdated"][theirs[0]]["type"], "notFound")
        self.assertEqual(other.ok("Email/get", {"ids": theirs})["notFound"], [])
        # Their mailbox named in a query holds nothing for this account.
        their_inbox = other.ok("Mailbox/query", {"filter": {"role": "inbox"}})["ids"][0]
        self.assertEqual(self.jmap.ok("Email/query", {"filter": {"inMailbox": their_inbox}})["ids"], [])
        self.assertEqual(other.ok("Email/query", {"filter": {"inMailbox": their_inbox,
                                                             "subject": "Private to mo"}})["ids"], theirs)


if __name__ == "__main__":
    unittest.main()
