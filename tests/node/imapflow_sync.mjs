// Syncs one mailbox the way a modern client does with imapflow, and prints what it
// saw as JSON for tests/test_imap_clients.py to check:
//   node imapflow_sync.mjs PORT USER PASSWORD MAILBOX
import { ImapFlow } from 'imapflow';

const [port, user, pass, mailbox] = process.argv.slice(2);
const client = new ImapFlow({
  host: '127.0.0.1',
  port: Number(port),
  secure: false,
  doSTARTTLS: true,
  tls: { rejectUnauthorized: false },
  auth: { user, pass },
  logger: false,
});

await client.connect();
const result = { capabilities: [...client.capabilities.keys()], mailboxes: [], messages: [] };
for (const box of await client.list()) {
  result.mailboxes.push({ path: box.path, specialUse: box.specialUse || null });
}
const lock = await client.getMailboxLock(mailbox);
try {
  result.exists = client.mailbox.exists;
  result.uidValidity = String(client.mailbox.uidValidity);
  result.highestModseq = String(client.mailbox.highestModseq || '');
  for await (const message of client.fetch('1:*', { uid: true, flags: true, envelope: true, size: true })) {
    result.messages.push({
      uid: message.uid,
      subject: message.envelope.subject,
      from: message.envelope.from.map((a) => a.address),
      flags: [...message.flags],
      size: message.size,
    });
  }
  if (result.messages.length > 0) {
    const first = result.messages[0].uid;
    await client.messageFlagsAdd(String(first), ['\\Flagged', '$Imapflow'], { uid: true });
    const { content } = await client.download(String(first), undefined, { uid: true });
    const chunks = [];
    for await (const chunk of content) chunks.push(chunk);
    result.firstBody = Buffer.concat(chunks).toString('utf8');
    const after = await client.fetchOne(String(first), { flags: true }, { uid: true });
    result.flagsAfter = [...after.flags];
  }
  result.search = await client.search({ seen: false }, { uid: true });
} finally {
  lock.release();
}
await client.logout();
console.log(JSON.stringify(result));
