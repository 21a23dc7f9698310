// A real Better Auth server for the todo API's end-to-end tests: email and
// password sign-up, the jwt plugin (tokens at /api/auth/token, keys at
// /api/auth/jwks) and the in-memory adapter, on loopback only.
//
// Environment:
//   PORT                listen port on 127.0.0.1 (required)
//   BETTER_AUTH_URL     base URL, default http://127.0.0.1:$PORT
//   BETTER_AUTH_SECRET  secret for sessions and key encryption (default: a test-only value)
//   JWT_ALG             EdDSA (default), ES256, ES512, PS256 or RS256
//
// Prints one line `READY <base url> <alg>` on stdout once it listens.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const port = Number.parseInt(process.env.PORT ?? "", 10);
if (!Number.isInteger(port) || port <= 0) {
  console.error("server.mjs: set PORT to the port to listen on");
  process.exit(2);
}
const baseURL = process.env.BETTER_AUTH_URL || `http://127.0.0.1:${port}`;
const secret =
  process.env.BETTER_AUTH_SECRET || "e2e-only-secret-not-for-production-0123456789";
const alg = process.env.JWT_ALG || "EdDSA";
const algs = ["EdDSA", "ES256", "ES512", "PS256", "RS256"];
if (!algs.includes(alg)) {
  console.error(`server.mjs: JWT_ALG must be one of ${algs.join(", ")}, not ${alg}`);
  process.exit(2);
}

// The memory adapter throws on a model it has no table for, so every table
// the core and the jwt plugin use starts empty.
const db = { user: [], session: [], account: [], verification: [], jwks: [] };

const auth = betterAuth({
  baseURL,
  secret,
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  plugins: [jwt({ jwks: { keyPairConfig: { alg } } })],
});

const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => {
  console.log(`READY ${baseURL} ${alg}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
