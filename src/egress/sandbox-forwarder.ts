/**
 * Runs inside a sandbox whose network is `egress`: `node sandbox-forwarder.js SOCKET PROGRAM
 * [ARGS…]`. The sandbox has its own network namespace with nothing but loopback; this listens
 * on a loopback port, relays each connection to the gateway's CONNECT proxy on the unix socket
 * SOCKET (bound into the sandbox), and runs PROGRAM with HTTP(S)_PROXY pointing at it. Only
 * node: built-ins: it is the one file of the gateway the sandbox contains.
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const [socketPath, program, ...args] = process.argv.slice(2);
if (!socketPath || !program) {
  process.stderr.write('usage: sandbox-forwarder SOCKET PROGRAM [ARGS...]\n');
  process.exit(2);
}

const server = createServer((local) => {
  const remote = connect(socketPath);
  local.on('error', () => remote.destroy());
  remote.on('error', () => local.destroy());
  local.pipe(remote);
  remote.pipe(local);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const proxy = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    ALL_PROXY: proxy,
    all_proxy: proxy,
    NO_PROXY: '',
    no_proxy: '',
    // Node's own fetch and http use the variables above only when asked to.
    NODE_USE_ENV_PROXY: '1',
  };
  const child = spawn(program, args, { stdio: 'inherit', env });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`sandbox-forwarder: cannot start ${program}: ${error.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
});
