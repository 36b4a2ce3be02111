// The reference sync server, built the way automerge-repo's own sync server is: express + ws
// + NodeWSServerAdapter + NodeFSStorageAdapter. Used only as the baseline in bench/load.
// Usage: node bench/load/reference-server.mjs PORT DATA_DIR
import express from "express";
import { WebSocketServer } from "ws";
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";

const [port, dir] = process.argv.slice(2);
const wss = new WebSocketServer({ noServer: true });
new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  sharePolicy: async () => false,
});
const app = express();
app.get("/healthz", (_req, res) => res.send("ok"));
const server = app.listen(Number(port), "127.0.0.1", () => console.log(`reference server on ${port}`));
server.on("upgrade", (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});
