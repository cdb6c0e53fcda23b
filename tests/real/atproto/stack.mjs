// Starts the atproto reference services (PLC directory, PDS, bsky AppView and the services the
// AppView needs) with @atproto/dev-env's TestNetwork, without mock seed data, on 127.0.0.1 only,
// and writes their addresses to the JSON file named on the command line. SIGTERM closes them.
// Needs Postgres (DB_POSTGRES_URL) and Redis (REDIS_HOST); scripts/atproto-lane.sh starts both.
import fs from 'node:fs'
import net from 'node:net'

// dev-env listens on every interface; keep each server on loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const rest = args.slice(1).filter((a) => typeof a === 'function')
    return listen.call(this, Number(first), '127.0.0.1', ...rest)
  }
  if (first && typeof first === 'object' && !('path' in first)) {
    args[0] = { ...first, host: '127.0.0.1' }
  }
  return listen.apply(this, args)
}

const { TestNetwork } = await import('@atproto/dev-env')
const out = process.argv[2]
const network = await TestNetwork.create({ dbPostgresSchema: 'earshot' })
const loopback = (url) => url.replace('//localhost:', '//127.0.0.1:')
const addresses = {
  pds: loopback(network.pds.url),
  appview: loopback(network.bsky.url),
  plc: loopback(network.plc.url),
  pid: process.pid,
}
fs.writeFileSync(`${out}.tmp`, JSON.stringify(addresses))
fs.renameSync(`${out}.tmp`, out)
console.log('atproto reference stack ready:', JSON.stringify(addresses))

let closing = false
const stop = async () => {
  if (closing) return
  closing = true
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
