// Starts the Durable Streams reference server (@durable-streams/server) for
// tests. PORT (0: a free port), LONG_POLL_MS and HOST come from the
// environment; the first line on stdout is "listening on <url>". The server
// stops on SIGTERM or when stdin closes (the test process went away).
import { DurableStreamTestServer } from "@durable-streams/server"

const server = new DurableStreamTestServer({
  host: process.env.HOST ?? "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  longPollTimeout: Number(process.env.LONG_POLL_MS ?? 30000),
})
await server.start()
console.log(`listening on ${server.url}`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
process.stdin.on("end", stop)
process.stdin.on("close", stop)
process.stdin.resume()
