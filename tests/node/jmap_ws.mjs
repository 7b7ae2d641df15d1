// JMAP over WebSocket (RFC 8887) with the `ws` client: argv = url user password.
// Sends a Request, enables push, prints "ready" once the server has answered a
// request sent after the enable, then prints each message it gets as one JSON line
// until it has seen a StateChange, and exits.
import WebSocket from "ws";

const [url, user, password] = process.argv.slice(2);
const auth = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
const socket = new WebSocket(url, ["jmap"], { headers: { Authorization: auth } });
const using = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];
socket.on("unexpected-response", (request, response) => {
  console.log(JSON.stringify({ "@type": "http", status: response.statusCode }));
  process.exit(0);
});
socket.on("open", () => {
  console.log(JSON.stringify({ "@type": "open", protocol: socket.protocol }));
  socket.send(JSON.stringify({ "@type": "Request", id: "first", using,
    methodCalls: [["Core/echo", { hello: "world" }, "e"]] }));
  socket.send("not json");
  socket.send(JSON.stringify({ "@type": "WebSocketPushEnable", dataTypes: ["Email", "Mailbox"] }));
  socket.send(JSON.stringify({ "@type": "Request", id: "sync", using, methodCalls: [] }));
});
socket.on("message", (data) => {
  const message = JSON.parse(data.toString());
  console.log(JSON.stringify(message));
  if (message.requestId === "sync") console.log("ready");
  if (message["@type"] === "StateChange") socket.close(1000);
});
socket.on("close", () => process.exit(0));
socket.on("error", (error) => { console.log(JSON.stringify({ "@type": "error", text: String(error) })); process.exit(1); });
setTimeout(() => { console.log(JSON.stringify({ "@type": "timeout" })); process.exit(1); }, 30000);
