// PM2 ecosystem for one validator and two miners on one host: `pm2 start deploy/pm2/ecosystem.config.cjs`.
// Logs are JSON lines (PM2 pipes stdout); `pm2 logs` shows them, LOG_FORMAT=pretty makes them readable.
const common = {
  script: 'bin/subnet.js',
  cwd: __dirname + '/../..',
  interpreter: 'node',
  autorestart: true,
  kill_timeout: 20000,
  env: { BT_WALLET_PATH: process.env.HOME + '/.bittensor/wallets', SUBNET_CHAIN: 'finney', SUBNET_NETUID: '1', LOG_LEVEL: 'info' },
};

module.exports = {
  apps: [
    { ...common, name: 'subnet-validator', args: ['validator', '--name', 'validator', '--metrics-port', '9100'] },
    { ...common, name: 'subnet-miner1', args: ['miner', '--name', 'miner1', '--host', '0.0.0.0', '--port', '8091', '--external-ip', '203.0.113.10', '--metrics-port', '9091'] },
    { ...common, name: 'subnet-miner2', args: ['miner', '--name', 'miner2', '--host', '0.0.0.0', '--port', '8092', '--external-ip', '203.0.113.10', '--metrics-port', '9092'] },
  ],
};
