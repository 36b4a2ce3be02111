// The phone's link to the server as a test wants it, between the browser and the real server.
// Playwright's `routeWebSocket` patches the page's own WebSocket only: since issue 28 the sync
// socket lives in the ledger's worker, where it is never routed. This is a real proxy on a
// port of its own instead: every request passes through unchanged (the Host header too, so
// the server's same-origin rule holds); sync sockets can be refused as out of coverage would
// refuse them, and their frames pass through it one by one, so a test can send one again.
import { request as httpRequest, createServer } from "node:http";
import WebSocket, { WebSocketServer } from "ws";

export class Link {
  /** A link to `server` (a harness `Server`); pages open `link.url`. Cookies do not care for
   * ports: a phone signed in to the server is signed in through the link too. */
  static async open(server) {
    const link = new Link(server);
    await new Promise((ok) => link.http.listen(0, "127.0.0.1", ok));
    // A test that fails before it closes the link must not keep the test process alive.
    link.http.unref();
    link.url = `http://127.0.0.1:${link.http.address().port}`;
    return link;
  }

  constructor(server) {
    this.server = server;
    /** Sync sockets are refused while down, and the open ones cut when it goes down. */
    this.down = false;
    /** While stalled, upgrades wait in `held`. */
    this.stalled = false;
    this.held = [];
    /** The last frame the server sent a phone, and the phone's end of that socket. */
    this.lastFromServer = null;
    this.phoneSocket = null;
    this.open = new Set();
    this.sockets = new WebSocketServer({ noServer: true });
    this.http = createServer((req, res) => {
      const upstream = httpRequest({ host: "127.0.0.1", port: server.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode, answer.rawHeaders);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    this.http.on("upgrade", (req, socket, head) => this.upgrade(req, socket, head));
  }

  upgrade(req, socket, head) {
    if (this.down) return socket.destroy();
    if (this.stalled) {
      // Held: the phone's socket stays CONNECTING until `release()`.
      this.held.push(() => this.upgrade(req, socket, head));
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (phone) => {
      const pass = ["cookie", "origin", "host"].map((h) => [h, req.headers[h]]).filter(([, v]) => v);
      const server = new WebSocket(`ws://127.0.0.1:${this.server.port}${req.url}`, { headers: Object.fromEntries(pass) });
      const early = [];
      const pair = { phone, server };
      this.open.add(pair);
      phone.on("message", (data, binary) => (server.readyState === WebSocket.OPEN ? server.send(data, { binary }) : early.push([data, binary])));
      server.on("open", () => early.splice(0).forEach(([data, binary]) => server.send(data, { binary })));
      server.on("message", (data, binary) => {
        this.lastFromServer = { data, binary };
        this.phoneSocket = phone;
        phone.send(data, { binary });
      });
      const end = () => {
        this.open.delete(pair);
        phone.terminate();
        server.terminate();
      };
      phone.on("close", end);
      server.on("close", end);
      phone.on("error", end);
      server.on("error", end);
    });
  }

  /** Out of coverage for sync (the page still loads): no sync socket opens or stays open. */
  cut() {
    this.down = true;
    for (const { phone, server } of this.open) {
      phone.terminate();
      server.terminate();
    }
  }

  /** Back in coverage. */
  mend() {
    this.down = false;
  }

  /** A weak signal: the open sync sockets are cut and the next ones stay connecting (their
   * upgrade is held, unanswered) until `release()`. */
  stall() {
    this.stalled = true;
    this.held = [];
    for (const { phone, server } of this.open) {
      phone.terminate();
      server.terminate();
    }
  }

  /** Answers the held upgrades: the sockets open. */
  release() {
    this.stalled = false;
    for (const go of this.held.splice(0)) go();
  }

  /** Sends the phone the server's last frame once more, as a slow link may deliver it late. */
  sendLastFrameAgain() {
    const { data, binary } = this.lastFromServer;
    this.phoneSocket.send(data, { binary });
  }

  async close() {
    this.cut();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise((ok) => this.http.close(ok));
  }
}
